from django.apps import AppConfig


class SubmissionsConfig(AppConfig):
    name = "submissions"
    verbose_name = "Submissions and checks"

    def ready(self) -> None:
        # The outbox asks the submission predicate before it mails anyone about a submission.
        from submissions import notices

        notices.register_gates()
