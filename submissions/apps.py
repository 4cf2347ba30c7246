from django.apps import AppConfig


class SubmissionsConfig(AppConfig):
    name = "submissions"
    verbose_name = "Submissions and checks"

    def ready(self) -> None:
        # The outbox asks the submission predicate before it mails anyone about a submission.
        from consortium.common.attention import register_attention_provider
        from submissions import notices, selectors
        from submissions.review import selectors as review_selectors

        notices.register_gates()
        register_attention_provider(selectors.attention_items, order=30)
        register_attention_provider(review_selectors.attention_items, order=40)
