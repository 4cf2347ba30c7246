"""Emails about grants and requests: recipients, links and the outbox keys (each notice once)."""

from django.urls import reverse

from consortium.common.mail import mail_enqueue, mail_queued, site_link
from consortium.licensing.models import Grant
from consortium.members.models import OrganisationRole, Person


def site_url(path: str) -> str:
    return site_link(path)


def grant_recipients(grant: Grant) -> list[str]:
    """The holder: the person, or an organisation's signatories and primary contacts."""
    if grant.person_id:
        return [grant.person.user.email]
    roles = OrganisationRole.objects.filter(
        organisation_id=grant.organisation_id,
        role__in=[OrganisationRole.Role.SIGNATORY, OrganisationRole.Role.PRIMARY_CONTACT],
        person__organisation_id=grant.organisation_id,
        person__affiliation=Person.Affiliation.APPROVED,
    ).select_related("person__user")
    return sorted({r.person.user.email for r in roles})


def grant_notice_key(grant_id: int, kind: str, reference: str) -> str:
    return f"licensing.grant:{grant_id}:{kind}:{reference}"


def grant_notice_sent(grant_id: int, kind: str, reference: str) -> bool:
    return mail_queued(grant_notice_key(grant_id, kind, reference))


def send(*, key: str, about: str, recipients: list[str], subject: str, body: str) -> int:
    """Queues the mail in the outbox, in the caller's transaction; sent after commit, once per key."""
    return mail_enqueue(key=key, subject=subject, body=body, recipients=recipients, about=about)


def dataset_link(grant_or_dataset) -> str:
    dataset = getattr(grant_or_dataset, "dataset", grant_or_dataset)
    return site_url(reverse("licensing:dataset", kwargs={"slug": dataset.slug}))
