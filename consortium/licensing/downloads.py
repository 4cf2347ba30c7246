"""Short-lived signed download links, tied to a person, a grant and the accepted agreement version.

A link is a django.core.signing token; nothing is stored. It works only while the one predicate
still allows the person, the grant it names is the one in force, and the acceptance it was issued
under is still the one access rests on: revoking, expiring or suspending the grant, or a material
agreement version past its grace period, stops it at once.
"""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone

from consortium.audit.services import audit_record
from consortium.licensing.access import AccessDecision, access_decision
from consortium.licensing.models import Dataset, DatasetSubset, Grant
from consortium.members.models import Person, User
from consortium.members.permissions import person_of

SALT = "consortium.licensing.download"


def link_lifetime() -> int:
    return int(getattr(settings, "LICENSING_DOWNLOAD_LINK_SECONDS", 600))


class DownloadRefused(Exception):
    def __init__(self, message: str, status: int = 403):
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class DownloadLink:
    token: str
    expires_at: dt.datetime
    subset: DatasetSubset | None


@dataclass(frozen=True)
class DownloadTicket:
    dataset: Dataset
    subset: DatasetSubset | None
    grant: Grant
    person: Person
    decision: AccessDecision


def _version_id(decision: AccessDecision) -> int:
    return decision.acceptance.agreement_version_id if decision.acceptance else 0


@transaction.atomic
def download_links_issue(
    *, dataset: Dataset, decision: AccessDecision, actor: User, ip_address: str | None = None
) -> list[DownloadLink]:
    """Links for the whole dataset and each subset, for a person the predicate allows."""
    if not decision.allowed or decision.grant is None or decision.person is None:
        raise DownloadRefused("You do not have access to this dataset.")
    expires = timezone.now() + dt.timedelta(seconds=link_lifetime())
    payload = {"g": decision.grant.pk, "p": decision.person.pk, "v": _version_id(decision), "d": dataset.pk}
    links = [DownloadLink(signing.dumps({**payload, "s": 0}, salt=SALT), expires, None)]
    for subset in dataset.subsets.all():
        links.append(DownloadLink(signing.dumps({**payload, "s": subset.pk}, salt=SALT), expires, subset))
    audit_record(
        actor=actor,
        action="licensing.download_links_issued",
        target=decision.grant,
        ip_address=ip_address,
        data={"dataset": dataset.slug, "agreement_version": payload["v"] or None},
    )
    return links


def download_authorise(*, token: str, user: User) -> DownloadTicket:
    """Checks a link for the user asking; raises DownloadRefused with the message to show."""
    try:
        payload = signing.loads(token, salt=SALT, max_age=link_lifetime())
    except signing.SignatureExpired as exc:
        raise DownloadRefused(
            f"This download link has expired (links last {link_lifetime() // 60} minutes). "
            "Get a new one from the dataset page.",
            status=410,
        ) from exc
    except signing.BadSignature as exc:
        raise DownloadRefused("This download link is not valid. Get a new one from the dataset page.") from exc
    person = person_of(user)
    if person is None or person.pk != payload.get("p"):
        raise DownloadRefused(
            "This download link was issued to another account. Get your own link from the dataset page."
        )
    dataset = Dataset.objects.filter(pk=payload.get("d")).select_related("agreement").first()
    if dataset is None:
        raise DownloadRefused("This dataset no longer exists.", status=404)
    subset = None
    if payload.get("s"):
        subset = dataset.subsets.filter(pk=payload["s"]).first()
        if subset is None:
            raise DownloadRefused("This part of the dataset no longer exists.", status=404)
    decision = access_decision(person, dataset)
    if not decision.allowed:
        raise DownloadRefused(
            "You no longer have access to this dataset: " + " ".join(r.message for r in decision.missing)
        )
    if decision.grant is None or decision.grant.pk != payload.get("g"):
        raise DownloadRefused(
            "This link was issued under a grant that is no longer in force. Get a new one from the dataset page."
        )
    if _version_id(decision) != payload.get("v"):
        raise DownloadRefused(
            "This link was issued under another version of the agreement. Get a new one from the dataset page."
        )
    return DownloadTicket(dataset=dataset, subset=subset, grant=decision.grant, person=person, decision=decision)


def download_record(*, ticket: DownloadTicket, actor: User, ip_address: str | None = None) -> None:
    audit_record(
        actor=actor,
        action="licensing.dataset_downloaded",
        target=ticket.grant,
        organisation=ticket.person.organisation,
        ip_address=ip_address,
        data={"dataset": ticket.dataset.slug, "subset": ticket.subset.slug if ticket.subset else None},
    )


def generated_file(ticket: DownloadTicket) -> tuple[str, bytes]:
    """A small text file standing in for the data when no file is stored (demo and tests)."""
    dataset, subset, decision = ticket.dataset, ticket.subset, ticket.decision
    licence = subset.licence if subset else dataset.licence
    obligations = ", ".join(licence.obligations) if licence else ""
    lines = [
        f"{dataset.name}{' · ' + subset.name if subset else ''}",
        f"Version: {dataset.current_version or 'unversioned'}",
        f"Licence: {licence.expression if licence else 'see the dataset page'}",
        f"Obligations: {obligations or 'none listed'}",
        "",
        "Attribution:",
        dataset.attribution_text or "(none given)",
        "",
        f"Issued to: {ticket.person.display_name} under grant #{ticket.grant.pk}",
    ]
    if decision.acceptance:
        version = decision.acceptance.agreement_version
        lines.append(f"Agreement: {version.agreement} version {version.label} (sha256 {version.text_sha256})")
    lines.append(f"Downloaded: {timezone.now():%Y-%m-%d %H:%M} UTC")
    lines.append("")
    lines.append("This is a placeholder file generated by the portal; the real data is served by the mirror.")
    name = f"{dataset.slug}{'-' + subset.slug if subset else ''}-README.txt"
    return name, ("\n".join(lines) + "\n").encode()
