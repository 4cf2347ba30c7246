from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "consortium.members"
    label = "members"
    verbose_name = "Members"

    def ready(self) -> None:
        from consortium.common.attention import register_attention_provider
        from consortium.members.selectors import attention_items

        register_attention_provider(attention_items, order=10)
