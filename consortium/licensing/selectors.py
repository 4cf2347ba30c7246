"""Reads of datasets, agreements, requests and grants, limited to what the asker may see."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from consortium.common.attention import AttentionItem
from consortium.licensing import permissions
from consortium.licensing.access import Missing, access_decisions
from consortium.licensing.models import (
    Acceptance,
    AccessRequest,
    Agreement,
    AgreementVersion,
    Dataset,
    DatasetSubset,
    Grant,
    Licence,
)
from consortium.members.models import Person
from consortium.members.permissions import Viewer, person_of


def datasets_visible_to(user: Viewer) -> QuerySet[Dataset]:
    qs = Dataset.objects.select_related("licence", "agreement").prefetch_related(
        Prefetch("subsets", queryset=DatasetSubset.objects.select_related("licence").order_by("name"))
    )
    if not permissions.can_administer_licensing(user):
        qs = qs.filter(is_listed=True)
    return qs.order_by("name")


def catalogue(user: Viewer, *, q: str = "", policy: str = "") -> QuerySet[Dataset]:
    qs = datasets_visible_to(user)
    if q:
        qs = qs.filter(
            Q(name__icontains=q)
            | Q(summary__icontains=q)
            | Q(description__icontains=q)
            | Q(licence__expression__icontains=q)
            | Q(subsets__licence__expression__icontains=q)
        ).distinct()
    if policy == "open":
        qs = qs.filter(requires_membership=False, agreement__isnull=True, requires_approval=False)
    elif policy == "members":
        qs = qs.filter(Q(requires_membership=True) | Q(agreement__signer="organisation"))
    elif policy == "agreement":
        qs = qs.filter(agreement__isnull=False)
    elif policy == "approval":
        qs = qs.filter(requires_approval=True)
    return qs


def dataset_for(user: Viewer, slug: str) -> Dataset:
    """Raises Dataset.DoesNotExist for unknown or hidden datasets."""
    return datasets_visible_to(user).get(slug=slug)


def licences_of(dataset: Dataset) -> list[Licence]:
    """The dataset's licences, whole dataset first, then each subset's, without repeats."""
    seen: set[int] = set()
    result: list[Licence] = []
    for licence in [dataset.licence, *[s.licence for s in dataset.subsets.all()]]:
        if licence is not None and licence.pk not in seen:
            seen.add(licence.pk)
            result.append(licence)
    return result


def grants_of(person: Person | None) -> QuerySet[Grant]:
    """The person's grants and their organisation's, newest first."""
    if person is None:
        return Grant.objects.none()
    condition = Q(person=person)
    if person.is_approved_member:
        condition |= Q(organisation_id=person.organisation_id)
    return (
        Grant.objects.filter(condition)
        .select_related("dataset__agreement", "organisation", "acceptance__agreement_version__agreement")
        .order_by("dataset__name", "-created_at")
    )


def requests_of(person: Person | None) -> QuerySet[AccessRequest]:
    if person is None:
        return AccessRequest.objects.none()
    return AccessRequest.objects.filter(person=person).select_related("dataset", "reviewer").order_by("-submitted_at")


def acceptances_of(person: Person | None) -> QuerySet[Acceptance]:
    if person is None:
        return Acceptance.objects.none()
    condition = Q(person=person)
    if person.is_approved_member:
        condition |= Q(organisation_id=person.organisation_id)
    return (
        Acceptance.objects.filter(condition)
        .select_related("agreement_version__agreement", "organisation", "person")
        .order_by("-accepted_at")
    )


def open_request_for(person: Person | None, dataset: Dataset) -> AccessRequest | None:
    if person is None:
        return None
    return AccessRequest.objects.filter(person=person, dataset=dataset, state__in=AccessRequest.OPEN_STATES).first()


def version_history(agreement: Agreement) -> QuerySet[AgreementVersion]:
    return AgreementVersion.objects.filter(agreement=agreement, published_at__isnull=False).order_by("-number")


def previous_version(version: AgreementVersion) -> AgreementVersion | None:
    qs = AgreementVersion.objects.filter(agreement_id=version.agreement_id, published_at__isnull=False)
    if version.number is not None:
        qs = qs.filter(number__lt=version.number)
    return qs.order_by("-number").first()


# --- Pending work for dataset admins ------------------------------------------------------------


@dataclass(frozen=True)
class PendingWork:
    requests: QuerySet[AccessRequest]
    expiring: QuerySet[Grant]
    suspended: QuerySet[Grant]
    drafts: QuerySet[AgreementVersion]
    in_grace: list[AgreementVersion]


def pending_work(user: Viewer, *, now: dt.datetime | None = None) -> PendingWork | None:
    if not permissions.can_administer_licensing(user):
        return None
    now = now or timezone.now()
    today = timezone.localdate(now)
    material = AgreementVersion.objects.filter(
        is_material=True, published_at__isnull=False, number__gt=1
    ).select_related("agreement")
    return PendingWork(
        requests=AccessRequest.objects.filter(state=AccessRequest.State.SUBMITTED)
        .select_related("dataset", "person__user", "organisation")
        .order_by("submitted_at"),
        expiring=expiring_grants(now=now),
        suspended=Grant.objects.filter(state=Grant.State.SUSPENDED)
        .select_related("dataset", "person__user", "organisation")
        .order_by("dataset__name"),
        drafts=AgreementVersion.objects.filter(published_at__isnull=True).select_related("agreement"),
        in_grace=[v for v in material if v.effective_date <= today < v.grace_ends],
    )


def expiring_grants(*, now: dt.datetime | None = None, days: int = 30) -> QuerySet[Grant]:
    now = now or timezone.now()
    return (
        Grant.objects.filter(state=Grant.State.ACTIVE, ends_at__gt=now, ends_at__lte=now + dt.timedelta(days=days))
        .select_related("dataset", "person__user", "organisation")
        .order_by("ends_at")
    )


def attention_items(user: Viewer) -> list:
    """Dashboard items: requests to decide (admins), requests returned, agreements to (re-)accept,
    grants ending soon, signatures an organisation waits for."""

    items: list = []
    work = pending_work(user)
    if work is not None:
        count = work.requests.count()
        if count:
            items.append(
                AttentionItem(
                    f"{count} dataset access request{'s' if count != 1 else ''} to decide",
                    "Approve, reject or return them in the licensing admin.",
                    reverse("admin:licensing_dataset_dashboard"),
                    "warning",
                )
            )
    person = person_of(user)
    if person is None:
        return items
    for request in requests_of(person).filter(state=AccessRequest.State.RETURNED):
        items.append(
            AttentionItem(
                f"Your request for {request.dataset} was returned for changes",
                request.reason,
                reverse("licensing:request_access", kwargs={"slug": request.dataset.slug}),
                "warning",
            )
        )
    soon = timezone.now() + dt.timedelta(days=30)
    first_grants: dict[int, Grant] = {}
    for grant in grants_of(person).filter(state__in=Grant.LIVE_STATES):
        first_grants.setdefault(grant.dataset_id, grant)
    grants = list(first_grants.values())
    for grant, decision in zip(grants, access_decisions(person, [g.dataset for g in grants]), strict=True):
        url = reverse("licensing:dataset", kwargs={"slug": grant.dataset.slug})
        if decision.has(Missing.REACCEPTANCE_REQUIRED) or decision.has(Missing.AGREEMENT_NOT_ACCEPTED):
            items.append(
                AttentionItem(f"Accept the agreement for {grant.dataset}", decision.missing[0].message, url, "warning")
            )
        elif decision.notes and decision.agreement and decision.agreement.due:
            items.append(AttentionItem(f"New agreement version for {grant.dataset}", decision.notes[0], url, "warning"))
        elif grant.state == Grant.State.ACTIVE and grant.ends_at and grant.ends_at <= soon:
            items.append(
                AttentionItem(
                    f"Your access to {grant.dataset} ends on {grant.ends_at:%d %b %Y}",
                    "Ask a dataset admin to extend it, or take it up again once it has ended.",
                    url,
                )
            )
    return items
