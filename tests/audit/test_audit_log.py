"""The audit log is append-only and staff export it as CSV from the admin."""

import csv
import io

import pytest

from consortium.audit.models import AuditEvent
from consortium.audit.services import audit_record
from consortium.members.models import OrganisationRole
from consortium.members.services import role_grant
from tests.factories import member_of

pytestmark = pytest.mark.django_db


def test_events_cannot_be_changed_or_deleted(roles):
    event = audit_record(actor=roles.staff, action="test.done", target=roles.org)
    event.reason = "rewritten"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(reason="x")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()


def test_staff_exports_filtered_log_as_csv(roles):
    colleague = member_of(roles.org)
    role_grant(person=colleague, organisation=roles.org, role=OrganisationRole.Role.SUBMITTER, actor=roles.primary)
    audit_record(actor=None, action="other.thing")
    response = roles.client("staff").get("/admin/audit/auditevent/", {"action": "roster.role_granted", "export": "csv"})
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    body = b"".join(response.streaming_content).decode()
    lines = body.strip().splitlines()
    assert lines[0].startswith("at,actor,action")
    assert len(lines) == 2 and "roster.role_granted" in lines[1] and "primary@acme.test" in lines[1]


def test_audit_export_cells_cannot_become_spreadsheet_formulas(roles):
    audit_record(actor=None, action="other.thing", reason='=HYPERLINK("http://evil.example")')
    response = roles.client("staff").get("/admin/audit/auditevent/", {"action": "other.thing", "export": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[1][-1] == '\'=HYPERLINK("http://evil.example")'


@pytest.mark.parametrize("role", ["member", "submitter", "primary", "chair"])
def test_non_staff_cannot_read_the_log(roles, role):
    response = roles.client(role).get("/admin/audit/auditevent/")
    assert response.status_code == 302


def test_admin_offers_no_add_change_or_delete(roles):
    event = audit_record(actor=roles.staff, action="test.done")
    client = roles.client("staff")
    assert client.get("/admin/audit/auditevent/add/").status_code == 403
    assert client.post(f"/admin/audit/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_admin_changes_to_memberships_are_audited(roles):
    membership = roles.org.memberships.get()
    client = roles.client("staff")
    response = client.post(
        f"/admin/members/membership/{membership.pk}/change/",
        {
            "organisation": roles.org.pk,
            "tier": membership.tier.pk,
            "start": membership.start.isoformat(),
            "end": membership.end.isoformat(),
            "grace_days": 30,
            "staff_override": "suspended",
            "note": "dues unpaid",
        },
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="members.membership_changed")
    assert event.organisation == roles.org and "staff_override" in event.data["changed"]
