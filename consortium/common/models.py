"""The outbox: one row per message and recipient, written in the transaction of the change it tells
about, sent afterwards by a Celery task (and by the periodic flush, so a lost broker message is
never a lost mail)."""

from django.db import models
from django.utils import timezone


class OutgoingMail(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        HELD = "held", "Held until the recipient may know"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        WITHHELD = "withheld", "Withheld (the recipient may not know)"

    # What makes the message unique (for example "submissions.version:12:checks_finished→a@b.org"):
    # a second enqueue of the same key does nothing, so each message is sent once.
    key = models.CharField(max_length=255, unique=True)
    to = models.EmailField()
    subject = models.CharField(max_length=300)
    body = models.TextField()
    # The body holds a secret (a password-reset link, a login code): emptied once the message is sent.
    erase_body_once_sent = models.BooleanField(default=False)
    # What the message is about, for staff reading the outbox ("licensing.grant:5").
    about = models.CharField(max_length=100, blank=True, default="", db_index=True)
    # A registered predicate asked at send time ("submission") with its argument (the object's id):
    # the message goes out only while it says the recipient may know.
    gate = models.CharField(max_length=40, blank=True, default="")
    gate_ref = models.CharField(max_length=64, blank=True, default="")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    due_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "outgoing mail"
        verbose_name_plural = "outgoing mail"
        indexes = [models.Index(fields=["state", "due_at"], name="outbox_state_due")]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to} ({self.state})"
