"""Mail backends for the outbox tests: one whose server is unreachable."""

from django.core.mail.backends.base import BaseEmailBackend


class UnreachableBackend(BaseEmailBackend):
    """As smtplib behaves when nothing listens on the port."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError(111, "Connection refused")
