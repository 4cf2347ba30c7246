"""Emails about grants and requests. Called from services through transaction.on_commit."""

from django.urls import reverse

from consortium.licensing.models import Grant
from consortium.members.models import OrganisationRole, Person
from consortium.portal.mail import portal_mail, site_link


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


def send(recipients: list[str], subject: str, body: str) -> None:
    portal_mail(subject, body, recipients)


def dataset_link(grant_or_dataset) -> str:
    dataset = getattr(grant_or_dataset, "dataset", grant_or_dataset)
    return site_url(reverse("licensing:dataset", kwargs={"slug": dataset.slug}))
