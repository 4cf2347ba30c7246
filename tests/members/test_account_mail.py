"""allauth's account mail (password reset, email verification) goes through the outbox: one row
per message, sent once by the outbox's delivery, kept while the server is down, its body (a reset
link) emptied once sent."""

import datetime as dt
import re

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from consortium.common import mail as outbox
from consortium.common.models import OutgoingMail
from consortium.members import adapters
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
State = OutgoingMail.State
UNREACHABLE = "tests.common.backends.UnreachableBackend"


def _reset(client, address, capture):
    with capture(execute=True):
        response = client.post("/accounts/password/reset/", {"email": address})
    assert response.status_code == 302


def test_password_reset_is_one_outbox_row_sent_once_and_its_link_erased(django_capture_on_commit_callbacks):
    UserFactory(email="forgot@example.test")
    _reset(Client(), "forgot@example.test", django_capture_on_commit_callbacks)
    row = OutgoingMail.objects.get()
    assert row.to == "forgot@example.test" and row.about == "account:password_reset_key"
    assert row.state == State.SENT and row.body == ""  # the reset link does not stay in the database
    assert outbox.outbox_deliver(message_id=row.pk).outcome == "skipped"
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert re.search(r"/accounts/password/reset/key/\S+", sent.body)
    assert sent.subject.count("[") == 1  # the portal's prefix, once
    assert sent.extra_headers["X-Portal-Mail-Key"] == row.key


def test_email_verification_is_one_outbox_row_sent_once(roles, django_capture_on_commit_callbacks):
    client = roles.client("member")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/email/", {"email": "new-address@acme.test", "action_add": ""})
    row = OutgoingMail.objects.get(to="new-address@acme.test")
    assert row.about == "account:email_confirmation" and row.state == State.SENT and row.body == ""
    assert [m.to for m in mail.outbox] == [["new-address@acme.test"]]
    assert "/accounts/confirm-email/" in mail.outbox[0].body


def test_with_the_mail_server_down_the_reset_waits_and_is_sent_later(settings, django_capture_on_commit_callbacks):
    UserFactory(email="forgot@example.test")
    settings.EMAIL_BACKEND = UNREACHABLE
    _reset(Client(), "forgot@example.test", django_capture_on_commit_callbacks)
    row = OutgoingMail.objects.get()
    assert row.state == State.PENDING and row.attempts == 1 and "Connection refused" in row.last_error
    assert "/accounts/password/reset/key/" in row.body  # kept until it is sent
    assert mail.outbox == []

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    OutgoingMail.objects.filter(pk=row.pk).update(due_at=timezone.now() - dt.timedelta(seconds=1))
    assert outbox.outbox_flush()["sent"] == 1
    row.refresh_from_db()
    assert row.state == State.SENT and row.body == ""
    assert len(mail.outbox) == 1 and "/accounts/password/reset/key/" in mail.outbox[0].body


def test_the_same_request_in_the_same_second_mails_once_a_new_request_mails_again(
    monkeypatch, django_capture_on_commit_callbacks
):
    moment = timezone.now().replace(microsecond=0)
    context = {"password_reset_url": "https://portal.test/accounts/password/reset/key/1-abc/"}
    adapter = adapters.AccountAdapter()
    with django_capture_on_commit_callbacks(execute=True):
        monkeypatch.setattr(adapters.timezone, "now", lambda: moment)
        adapter.send_mail("account/email/password_reset_key", "a@example.test", context)
        monkeypatch.setattr(adapters.timezone, "now", lambda: moment + dt.timedelta(milliseconds=500))
        adapter.send_mail("account/email/password_reset_key", "a@example.test", context)
        monkeypatch.setattr(adapters.timezone, "now", lambda: moment + dt.timedelta(seconds=2))
        adapter.send_mail("account/email/password_reset_key", "a@example.test", context)
    assert OutgoingMail.objects.count() == 2 and len(mail.outbox) == 2


def test_a_real_smtp_server_down_then_up_receives_the_reset_once(
    settings, tmp_path, django_capture_on_commit_callbacks
):
    from tests.common.test_outbox_smtp import _free_port, _received, _start_smtp

    port, spool = _free_port(), tmp_path / "received.jsonl"
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    UserFactory(email="forgot@example.test")
    _reset(Client(), "forgot@example.test", django_capture_on_commit_callbacks)  # nothing listens yet
    row = OutgoingMail.objects.get()
    assert row.state == State.PENDING and row.body

    server = _start_smtp(port, spool, refuse=0)
    try:
        OutgoingMail.objects.filter(pk=row.pk).update(due_at=timezone.now() - dt.timedelta(seconds=1))
        assert outbox.outbox_flush()["sent"] == 1
        assert outbox.outbox_flush()["sent"] == 0
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert [(m["key"], m["to"]) for m in _received(spool)] == [(row.key, ["forgot@example.test"])]
    row.refresh_from_db()
    assert row.state == State.SENT and row.body == ""
