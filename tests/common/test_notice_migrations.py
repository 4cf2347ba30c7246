"""The data migrations that replaced Notice, GrantNotice and SentReminder: what they record as sent
is found under the very keys the live code uses, so nothing already sent goes out again."""

import datetime as dt
import importlib
from types import SimpleNamespace

import pytest
from django.utils import timezone

from consortium.common.mail import mail_enqueue
from consortium.common.models import OutgoingMail
from consortium.licensing import notices as licensing_notices
from submissions.notices import version_notice_key
from workinggroups.services import reminder_key

pytestmark = pytest.mark.django_db
SENT_AT = timezone.now() - dt.timedelta(days=3)


class _Rows:
    def __init__(self, rows):
        self.rows = rows

    def all(self):
        return self

    def iterator(self):
        return iter(self.rows)


class _Apps:
    """The historical models a migration asks for: the old one (its rows given) and the outbox."""

    def __init__(self, old_name: str, rows: list):
        self.old_name, self.rows = old_name, rows

    def get_model(self, app_label: str, name: str):
        if name == "OutgoingMail":
            return OutgoingMail
        assert name == self.old_name
        return SimpleNamespace(objects=_Rows(self.rows))


def _migration(module: str):
    return importlib.import_module(module)


def test_sent_version_notices_are_not_sent_again():
    rows = [SimpleNamespace(version_id=7, kind="checks_finished", recipient="Sub@Acme.test", sent_at=SENT_AT)]
    _migration("submissions.migrations.0003_notices_into_outbox").copy_notices(_Apps("Notice", rows), None)
    row = OutgoingMail.objects.get()
    assert row.state == OutgoingMail.State.SENT and row.sent_at == SENT_AT
    again = mail_enqueue(
        key=version_notice_key(7, "checks_finished"), subject="s", body="b", recipients=["sub@acme.test"]
    )
    assert again == 0


def test_sent_grant_notices_are_not_sent_again_even_without_recorded_recipients():
    rows = [
        SimpleNamespace(grant_id=3, kind="expiry_30", reference="2027-01-31", recipients=["a@x.test"], sent_at=SENT_AT),
        SimpleNamespace(grant_id=4, kind="new_version", reference="9", recipients=[], sent_at=SENT_AT),
    ]
    module = _migration("consortium.licensing.migrations.0004_grant_notices_into_outbox")
    module.copy_grant_notices(_Apps("GrantNotice", rows), None)
    assert licensing_notices.grant_notice_sent(3, "expiry_30", "2027-01-31")
    assert licensing_notices.grant_notice_sent(4, "new_version", "9")
    assert not licensing_notices.grant_notice_sent(3, "expiry_7", "2027-01-31")


def test_sent_reminders_are_not_sent_again():
    about = dt.datetime(2030, 5, 17, 20, tzinfo=dt.UTC)
    rows = [SimpleNamespace(kind="deadline_7d", phase_id=11, about=about, recipient="c@x.test", sent_at=SENT_AT)]
    module = _migration("workinggroups.migrations.0002_reminders_into_outbox")
    module.copy_reminders(_Apps("SentReminder", rows), None)
    key = reminder_key(kind="deadline_7d", phase_id=11, about=about)
    assert mail_enqueue(key=key, subject="s", body="b", recipients=["c@x.test"]) == 0
    assert mail_enqueue(key=key, subject="s", body="b", recipients=["other@x.test"]) == 1
