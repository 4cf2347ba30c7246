from django.apps import AppConfig


class WorkingGroupsConfig(AppConfig):
    name = "workinggroups"
    verbose_name = "Working groups and rounds"

    def ready(self) -> None:
        from consortium.common.attention import register_attention_provider
        from workinggroups.selectors import attention_items

        register_attention_provider(attention_items, order=20)
