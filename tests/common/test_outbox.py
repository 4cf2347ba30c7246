"""The outbox: one row per message and recipient under an idempotency key, sent once after
commit, retried with backoff while the server is unreachable, flushed periodically so that a lost
announcement or a sender that died loses nothing, and gated by the subject's predicate."""

import datetime as dt

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from consortium.common import mail as outbox
from consortium.common.models import OutgoingMail

pytestmark = pytest.mark.django_db
State = OutgoingMail.State
UNREACHABLE = "tests.common.backends.UnreachableBackend"


def _queue(key="test.thing:1", to=("a@example.test",), **kwargs) -> int:
    return outbox.mail_enqueue(key=key, subject="Hello", body="Body", recipients=list(to), **kwargs)


def test_same_key_is_queued_and_sent_once(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert _queue(to=["a@example.test", "b@example.test"]) == 2
        assert _queue(to=["a@example.test", "b@example.test"]) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert _queue(to=["A@example.test"]) == 0  # the same address, another spelling
    assert sorted(m.to[0] for m in mail.outbox) == ["a@example.test", "b@example.test"]
    assert set(OutgoingMail.objects.values_list("state", flat=True)) == {State.SENT}
    assert mail.outbox[0].subject.startswith("[")  # the portal's subject prefix
    assert mail.outbox[0].extra_headers["Message-ID"].startswith("<")


def test_a_rolled_back_change_mails_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                _queue()
                raise RuntimeError("the change fails")
        except RuntimeError:
            pass
    assert mail.outbox == [] and not OutgoingMail.objects.exists()


def test_a_second_delivery_of_the_same_message_sends_nothing():
    _queue()
    message = OutgoingMail.objects.get()
    assert outbox.outbox_deliver(message_id=message.pk).outcome == "sent"
    assert outbox.outbox_deliver(message_id=message.pk).outcome == "skipped"
    assert len(mail.outbox) == 1


def test_unreachable_server_is_retried_with_backoff_then_sent(settings):
    settings.EMAIL_BACKEND = UNREACHABLE
    _queue()
    message = OutgoingMail.objects.get()
    first = outbox.outbox_deliver(message_id=message.pk)
    assert first.outcome == "retry" and first.retry_in == settings.OUTBOX_BACKOFF_BASE
    message.refresh_from_db()
    assert message.state == State.PENDING and "Connection refused" in message.last_error
    assert message.due_at > timezone.now()
    assert outbox.outbox_deliver(message_id=message.pk).outcome == "skipped"  # not due yet
    OutgoingMail.objects.filter(pk=message.pk).update(due_at=timezone.now())
    assert outbox.outbox_deliver(message_id=message.pk).retry_in == 2 * settings.OUTBOX_BACKOFF_BASE
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    result = outbox.outbox_flush(now=timezone.now() + dt.timedelta(hours=2))
    message.refresh_from_db()
    assert result["sent"] == 0  # the flush sends only what is due by the clock
    OutgoingMail.objects.filter(pk=message.pk).update(due_at=timezone.now())
    assert outbox.outbox_flush()["sent"] == 1
    message.refresh_from_db()
    assert message.state == State.SENT and message.attempts == 3 and len(mail.outbox) == 1


def test_gives_up_only_after_the_attempts_allowed(settings):
    settings.EMAIL_BACKEND = UNREACHABLE
    settings.OUTBOX_MAX_ATTEMPTS = 2
    _queue()
    message = OutgoingMail.objects.get()
    assert outbox.outbox_deliver(message_id=message.pk).outcome == "retry"
    OutgoingMail.objects.filter(pk=message.pk).update(due_at=timezone.now())
    assert outbox.outbox_deliver(message_id=message.pk).outcome == "failed"
    message.refresh_from_db()
    assert message.state == State.FAILED
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert outbox.outbox_resend(message_ids=[message.pk]) == 1  # staff: "send again"
    assert outbox.outbox_flush()["sent"] == 1


def test_flush_sends_a_message_whose_announcement_was_lost(monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(outbox, "_dispatch", lambda ids: None)  # the broker lost the message
    with django_capture_on_commit_callbacks(execute=True):
        _queue()
    assert mail.outbox == []
    assert outbox.outbox_flush()["sent"] == 1
    assert outbox.outbox_flush()["sent"] == 0
    assert len(mail.outbox) == 1


def test_flush_recovers_the_claim_of_a_sender_that_died(settings):
    _queue()
    message = OutgoingMail.objects.get()
    long_ago = timezone.now() - dt.timedelta(seconds=settings.OUTBOX_CLAIM_TIMEOUT + 1)
    OutgoingMail.objects.filter(pk=message.pk).update(state=State.SENDING, claimed_at=long_ago, attempts=1)
    recent = OutgoingMail.objects.create(key="other→x@example.test", to="x@example.test", subject="s", body="b")
    OutgoingMail.objects.filter(pk=recent.pk).update(state=State.SENDING, claimed_at=timezone.now())
    result = outbox.outbox_flush()
    assert result["recovered"] == 1 and result["sent"] == 1
    assert OutgoingMail.objects.get(pk=recent.pk).state == State.SENDING  # still someone's: untouched


@pytest.mark.real_outbox
@pytest.mark.django_db(transaction=True)
def test_a_failing_callback_does_not_cost_a_mail_or_skip_the_others(monkeypatch):
    from celery import current_app

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(current_app, "send_task", broker_down)
    ran = []
    with transaction.atomic():
        _queue(key="first")
        transaction.on_commit(lambda: ran.append("after the mail"), robust=True)
    assert ran == ["after the mail"]  # the mail's announcement failed, the next callback still ran
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        transaction.on_commit(lambda: 1 / 0)  # someone else's callback, not robust
        _queue(key="second")
    # Both rows were committed with their changes; the periodic flush sends them.
    assert mail.outbox == []
    assert outbox.outbox_flush()["sent"] == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["a@example.test", "a@example.test"]


def test_gate_holds_until_the_recipient_may_know_and_withholds_when_never(settings):
    allowed = {"a@example.test": False}

    def gate(email, ref):
        if ref == "gone":
            raise LookupError(ref)
        return allowed[email]

    outbox.register_mail_gate("test_gate", gate)
    _queue(key="held", gate="test_gate", gate_ref="1")
    _queue(key="gone", gate="test_gate", gate_ref="gone")
    assert outbox.outbox_flush()["sent"] == 0
    assert {m.key.split("→")[0]: m.state for m in OutgoingMail.objects.all()} == {
        "held": State.HELD,
        "gone": State.WITHHELD,
    }
    later = timezone.now() + outbox.HOLD_RECHECK
    assert outbox.outbox_flush()["released"] == 0  # not asked again before HOLD_RECHECK
    assert outbox.outbox_flush(now=later)["released"] == 0 and mail.outbox == []
    allowed["a@example.test"] = True
    assert outbox.outbox_flush(now=later)["released"] == 0  # asked at `later` already: next in 5 min
    assert outbox.outbox_flush(now=later + outbox.HOLD_RECHECK)["released"] == 1
    assert [m.subject for m in mail.outbox] == [f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}Hello"]
    allowed["a@example.test"] = False
    _queue(key="old", gate="test_gate", gate_ref="1")
    outbox.outbox_flush()
    OutgoingMail.objects.filter(key__startswith="old").update(
        created_at=timezone.now() - dt.timedelta(days=settings.OUTBOX_HOLD_DAYS + 1)
    )
    assert outbox.outbox_flush(now=timezone.now() + outbox.HOLD_RECHECK)["withheld"] == 1
    assert len(mail.outbox) == 1


def test_unknown_gate_is_refused():
    with pytest.raises(ValueError, match="No mail gate"):
        _queue(gate="nonexistent")
