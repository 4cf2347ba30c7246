"""The one predicate: may this person access this dataset, and if not, what is missing?

Every page, the JSON endpoint, the download view and the admin's "explain access" tool call
`access_decision`. It reads live facts (membership dates, acceptances, requests, grants) rather
than trusting a grant's stored state alone, so a lapsed membership or a material agreement
version past its grace period denies access even before the daily task has suspended the grant.
"""

import datetime as dt
from dataclasses import dataclass, field
from typing import TypeAlias

from django.db.models import Q
from django.utils import timezone

from consortium.licensing.models import (
    Acceptance,
    AccessRequest,
    Agreement,
    AgreementVersion,
    Dataset,
    Grant,
)
from consortium.members.models import Membership, Organisation, Person
from consortium.members.permissions import Viewer, person_of
from consortium.members.selectors import current_membership

GOOD_STANDING = (Membership.Status.ACTIVE, Membership.Status.GRACE)


class Missing:
    """Codes of what can stand between a person and a dataset."""

    LOGIN = "login"
    PROFILE = "profile"
    UNLISTED = "unlisted"
    NOT_MEMBER = "not_member"
    AFFILIATION_PENDING = "affiliation_pending"
    MEMBERSHIP = "membership"
    AGREEMENT_UNPUBLISHED = "agreement_unpublished"
    AGREEMENT_NOT_ACCEPTED = "agreement_not_accepted"
    ORGANISATION_NOT_SIGNED = "organisation_not_signed"
    REACCEPTANCE_REQUIRED = "reacceptance_required"
    ORGANISATION_REACCEPTANCE_REQUIRED = "organisation_reacceptance_required"
    REQUEST_NEEDED = "request_needed"
    REQUEST_PENDING = "request_pending"
    REQUEST_RETURNED = "request_returned"
    REQUEST_REJECTED = "request_rejected"
    GRANT_MISSING = "grant_missing"
    GRANT_NOT_STARTED = "grant_not_started"
    GRANT_EXPIRED = "grant_expired"
    GRANT_REVOKED = "grant_revoked"
    GRANT_SUSPENDED = "grant_suspended"


@dataclass(frozen=True)
class Reason:
    code: str
    message: str


@dataclass
class AgreementStatus:
    """Where a person (or their organisation) stands with a dataset's agreement."""

    agreement: Agreement
    current: AgreementVersion | None
    required: AgreementVersion | None
    acceptance: Acceptance | None
    # A material version accepted by nobody yet for this holder, still within its grace period.
    due: AgreementVersion | None = None

    @property
    def satisfied(self) -> bool:
        return (
            self.required is not None
            and self.acceptance is not None
            and published_number(self.acceptance.agreement_version) >= published_number(self.required)
        )

    @property
    def accepted_current(self) -> bool:
        return (
            self.current is not None
            and self.acceptance is not None
            and published_number(self.acceptance.agreement_version) >= published_number(self.current)
        )


def published_number(version: AgreementVersion) -> int:
    """The number of a published version (only drafts have none, and statuses never hold drafts)."""
    assert version.number is not None
    return version.number


@dataclass
class AccessDecision:
    allowed: bool
    missing: list[Reason]
    dataset: Dataset
    person: Person | None
    at: dt.datetime
    notes: list[str] = field(default_factory=list)
    grant: Grant | None = None
    agreement: AgreementStatus | None = None
    access_request: AccessRequest | None = None

    @property
    def codes(self) -> list[str]:
        return [r.code for r in self.missing]

    def has(self, code: str) -> bool:
        return code in self.codes

    @property
    def acceptance(self) -> Acceptance | None:
        return self.agreement.acceptance if self.agreement else None

    @property
    def summary(self) -> str:
        if self.allowed:
            return "Access allowed."
        return "Access denied: " + " ".join(r.message for r in self.missing)


def published_versions(agreement: Agreement, at: dt.datetime) -> list[AgreementVersion]:
    """The versions in force by `at`, oldest first."""
    return list(
        AgreementVersion.objects.filter(
            agreement=agreement,
            published_at__isnull=False,
            published_at__lte=at,
            effective_date__lte=timezone.localdate(at),
        ).order_by("number")
    )


def required_version(versions: list[AgreementVersion], day: dt.date) -> AgreementVersion | None:
    """The oldest version an acceptance may be of: the first version, or the latest material version
    whose grace period has ended."""
    required = versions[0] if versions else None
    for version in versions[1:]:
        if version.is_material and day >= version.grace_ends:
            required = version
    return required


def agreement_status(
    agreement: Agreement,
    *,
    person: Person | None,
    organisation: Organisation | None,
    at: dt.datetime,
    facts: "Facts | None" = None,
) -> AgreementStatus:
    versions = facts.versions.get(agreement.pk, []) if facts else published_versions(agreement, at)
    current = versions[-1] if versions else None
    required = required_version(versions, timezone.localdate(at))
    acceptances = Acceptance.objects.filter(agreement_version__agreement=agreement, accepted_at__lte=at).select_related(
        "agreement_version", "person"
    )
    if facts is not None:
        acceptance = facts.acceptance(agreement, organisation=organisation)
    elif agreement.signed_by_organisation:
        acceptance = (
            acceptances.filter(organisation=organisation).order_by("-agreement_version__number", "-accepted_at").first()
            if organisation is not None
            else None
        )
    else:
        acceptance = (
            acceptances.filter(person=person, organisation__isnull=True)
            .order_by("-agreement_version__number", "-accepted_at")
            .first()
            if person is not None
            else None
        )
    status = AgreementStatus(agreement=agreement, current=current, required=required, acceptance=acceptance)
    if acceptance is not None and status.satisfied:
        accepted = published_number(acceptance.agreement_version)
        pending = [v for v in versions if published_number(v) > accepted and v.is_material]
        status.due = pending[0] if pending else None
    return status


# Whom access is decided for: a person, or whoever asks (a user or the anonymous visitor; None as anonymous).
Subject: TypeAlias = Person | Viewer | None


def _resolve_person(subject: Subject) -> Person | None:
    if subject is None:
        return None
    if isinstance(subject, Person):
        return subject
    return person_of(subject)


def _membership_reasons(person: Person, day: dt.date, facts: "Facts | None" = None) -> list[Reason]:
    if person.organisation_id is None:
        return [
            Reason(
                Missing.NOT_MEMBER,
                "This dataset is for members only, and you do not belong to a member organisation.",
            )
        ]
    if not person.is_approved_member:
        return [
            Reason(
                Missing.AFFILIATION_PENDING,
                f"{person.organisation} has not yet confirmed that you belong to it.",
            )
        ]
    if facts is not None:
        membership = facts.membership
    else:
        organisation = person.organisation
        assert organisation is not None  # approved members have one
        membership = current_membership(organisation, day)
    if membership is None:
        return [Reason(Missing.MEMBERSHIP, f"{person.organisation} has no membership of the consortium.")]
    status = membership.status_on(day)
    if status not in GOOD_STANDING:
        return [
            Reason(
                Missing.MEMBERSHIP,
                f"{person.organisation}'s membership is {status.label.lower()}; "
                "members-only access needs a membership in good standing.",
            )
        ]
    return []


def _agreement_reasons(status: AgreementStatus, person: Person) -> list[Reason]:
    agreement = status.agreement
    if status.current is None:
        return [Reason(Missing.AGREEMENT_UNPUBLISHED, f"The agreement “{agreement}” has not been published yet.")]
    current = status.current
    by_org = agreement.signed_by_organisation
    if status.acceptance is None:
        if by_org:
            return [
                Reason(
                    Missing.ORGANISATION_NOT_SIGNED,
                    f"A signatory of {person.organisation or 'your organisation'} must sign "
                    f"“{agreement}” (version {current.label}) on its behalf.",
                )
            ]
        return [
            Reason(
                Missing.AGREEMENT_NOT_ACCEPTED,
                f"You have not accepted “{agreement}” (version {current.label}).",
            )
        ]
    if not status.satisfied:
        accepted = status.acceptance.agreement_version
        required = status.required
        assert required is not None
        who = f"{person.organisation}'s signatory" if by_org else "You"
        return [
            Reason(
                Missing.ORGANISATION_REACCEPTANCE_REQUIRED if by_org else Missing.REACCEPTANCE_REQUIRED,
                f"{who} accepted version {accepted.label} of “{agreement}”, but version {required.label} "
                f"changed it materially and its grace period ended on {required.grace_ends:%d %b %Y}. "
                f"Version {current.label} must be accepted.",
            )
        ]
    return []


def _request_reason(latest: AccessRequest | None, dataset: Dataset, at: dt.datetime) -> Reason | None:
    State = AccessRequest.State
    if latest is None or latest.state == State.WITHDRAWN:
        return Reason(Missing.REQUEST_NEEDED, "A dataset admin must approve your access: request access.")
    if latest.state == State.SUBMITTED:
        return Reason(
            Missing.REQUEST_PENDING,
            f"Your request of {latest.submitted_at:%d %b %Y} is waiting for a dataset admin's decision.",
        )
    if latest.state == State.RETURNED:
        why = f" ({latest.reason})" if latest.reason else ""
        return Reason(Missing.REQUEST_RETURNED, f"Your request was returned for changes{why}: edit and resubmit it.")
    if latest.state == State.REJECTED:
        again = cooldown_ends(latest, dataset)
        why = f" ({latest.reason})" if latest.reason else ""
        when = f"You may ask again from {again:%d %b %Y}." if again and again > at else "You may ask again."
        return Reason(Missing.REQUEST_REJECTED, f"Your request was rejected{why}. {when}")
    return None


def cooldown_ends(request: AccessRequest, dataset: Dataset) -> dt.datetime | None:
    if request.state != AccessRequest.State.REJECTED or request.decided_at is None:
        return None
    return request.decided_at + dt.timedelta(days=dataset.request_cooldown_days)


def _grant_reason(grant: Grant, at: dt.datetime) -> Reason:
    holder = "Your organisation's" if grant.organisation_id else "Your"
    if grant.state == Grant.State.REVOKED:
        why = f": {grant.reason.rstrip('.')}" if grant.reason else ""
        return Reason(Missing.GRANT_REVOKED, f"{holder} access was revoked{why}.")
    if grant.state == Grant.State.SUSPENDED:
        cause = Grant.SuspensionCause(grant.suspension_cause).label if grant.suspension_cause else "suspended"
        return Reason(Missing.GRANT_SUSPENDED, f"{holder} access is suspended ({cause.lower()}).")
    if grant.starts_at > at:
        return Reason(Missing.GRANT_NOT_STARTED, f"{holder} access starts on {grant.starts_at:%d %b %Y}.")
    ended = grant.ends_at or grant.ended_at or at
    return Reason(Missing.GRANT_EXPIRED, f"{holder} access expired on {ended:%d %b %Y}.")


def holder_grants(person: Person, dataset: Dataset) -> list[Grant]:
    """The person's own grants and their organisation's, newest first."""
    grants = Grant.objects.filter(dataset=dataset, person=person)
    if person.is_approved_member:
        assert person.organisation_id is not None  # approved members have one
        grants = grants | Grant.objects.filter(dataset=dataset, organisation_id=person.organisation_id)
    return list(grants.select_related("acceptance__agreement_version").order_by("-created_at", "-id"))


@dataclass
class Facts:
    """What the predicate reads about one person, loaded in a fixed number of queries for many
    datasets at once (lists such as the catalogue, "my grants" and the dashboard). The decision
    itself is the same code with or without it."""

    person: Person
    at: dt.datetime
    grants: dict[int, list[Grant]]
    latest_requests: dict[int, AccessRequest]
    versions: dict[int, list[AgreementVersion]]
    acceptances: dict[int, list[Acceptance]]
    membership: Membership | None

    def acceptance(self, agreement: Agreement, *, organisation: Organisation | None) -> Acceptance | None:
        """The holder's latest acceptance, as `agreement_status` picks it from the database."""
        found = self.acceptances.get(agreement.pk, [])
        if agreement.signed_by_organisation:
            if organisation is None:
                return None
            found = [a for a in found if a.organisation_id == organisation.pk]
        else:
            found = [a for a in found if a.person_id == self.person.pk and a.organisation_id is None]
        return max(found, key=lambda a: (a.agreement_version.number, a.accepted_at), default=None)


def load_facts(person: Person, datasets: list[Dataset], at: dt.datetime) -> Facts:
    """Everything `access_decision` reads about `person` for `datasets`, in at most six queries."""
    ids = [d.pk for d in datasets]
    holders = Q(person=person)
    if person.is_approved_member:
        holders |= Q(organisation_id=person.organisation_id)
    grants: dict[int, list[Grant]] = {}
    for grant in (
        Grant.objects.filter(holders, dataset_id__in=ids)
        .select_related("acceptance__agreement_version")
        .order_by("-created_at", "-id")
    ):
        grants.setdefault(grant.dataset_id, []).append(grant)
    latest_requests: dict[int, AccessRequest] = {}
    if any(d.requires_approval for d in datasets):
        for request in AccessRequest.objects.filter(dataset_id__in=ids, person=person).order_by("-submitted_at", "-id"):
            latest_requests.setdefault(request.dataset_id, request)
    agreement_ids = {d.agreement_id for d in datasets if d.agreement_id}
    versions: dict[int, list[AgreementVersion]] = {}
    acceptances: dict[int, list[Acceptance]] = {}
    if agreement_ids:
        for version in AgreementVersion.objects.filter(
            agreement_id__in=agreement_ids,
            published_at__isnull=False,
            published_at__lte=at,
            effective_date__lte=timezone.localdate(at),
        ).order_by("number"):
            versions.setdefault(version.agreement_id, []).append(version)
        signers = Q(person=person, organisation__isnull=True)
        if person.is_approved_member:
            signers |= Q(organisation_id=person.organisation_id)
        for acceptance in Acceptance.objects.filter(
            signers, agreement_version__agreement_id__in=agreement_ids, accepted_at__lte=at
        ).select_related("agreement_version", "person"):
            acceptances.setdefault(acceptance.agreement_version.agreement_id, []).append(acceptance)
    membership = None
    if person.is_approved_member and any(d.needs_membership for d in datasets):
        organisation = person.organisation
        assert organisation is not None  # approved members have one
        membership = current_membership(organisation, timezone.localdate(at))
    return Facts(person, at, grants, latest_requests, versions, acceptances, membership)


def access_decisions(subject: Subject, datasets: list[Dataset], at: dt.datetime | None = None) -> list[AccessDecision]:
    """`access_decision` for each of `datasets`, in the same order, in a fixed number of queries."""
    at = at or timezone.now()
    person = _resolve_person(subject)
    facts = load_facts(person, datasets, at) if person is not None and datasets else None
    return [access_decision(person if person is not None else subject, d, at, facts=facts) for d in datasets]


def access_decision(
    subject: Subject, dataset: Dataset, at: dt.datetime | None = None, *, facts: Facts | None = None
) -> AccessDecision:
    """May `subject` (a Person, a user, or None/anonymous) access `dataset` at `at` (default now)?
    `missing` lists, in the order a person would fix them, every requirement not met. `facts`
    (from `access_decisions`) answers the same from facts loaded once for many datasets.
    """
    at = facts.at if facts is not None else (at or timezone.now())
    day = timezone.localdate(at)
    person = _resolve_person(subject)
    decision = AccessDecision(allowed=False, missing=[], dataset=dataset, person=person, at=at)
    if person is None:
        if getattr(subject, "is_authenticated", False):
            decision.missing.append(Reason(Missing.PROFILE, "Your account has no member profile."))
        else:
            decision.missing.append(Reason(Missing.LOGIN, "Log in to access datasets."))
        return decision
    missing = decision.missing
    if not dataset.is_listed:
        missing.append(Reason(Missing.UNLISTED, "This dataset is not published in the catalogue."))
    if dataset.needs_membership:
        missing.extend(_membership_reasons(person, day, facts))

    grants = facts.grants.get(dataset.pk, []) if facts is not None else holder_grants(person, dataset)
    in_force = [g for g in grants if g.is_in_force(at)]
    # A person's own grant first, then the organisation's.
    in_force.sort(key=lambda g: g.person_id is None)
    decision.grant = in_force[0] if in_force else (grants[0] if grants else None)

    if dataset.requires_approval and not in_force:
        if facts is not None:
            latest = facts.latest_requests.get(dataset.pk)
        else:
            latest = (
                AccessRequest.objects.filter(dataset=dataset, person=person).order_by("-submitted_at", "-id").first()
            )
        decision.access_request = latest
        revoked_or_lapsed = decision.grant is not None and (latest is None or latest.state == "approved")
        if not revoked_or_lapsed:
            reason = _request_reason(latest, dataset, at)
            if reason is not None:
                missing.append(reason)

    if dataset.agreement_id and dataset.agreement is not None:
        organisation = person.organisation if person.is_approved_member else None
        decision.agreement = agreement_status(
            dataset.agreement, person=person, organisation=organisation, at=at, facts=facts
        )
        missing.extend(_agreement_reasons(decision.agreement, person))
        due = decision.agreement.due
        if due is not None and not missing:
            decision.notes.append(
                f"Version {due.label} of “{dataset.agreement}” changes it materially: accept it before "
                f"{due.grace_ends:%d %b %Y} to keep access."
            )

    if not in_force:
        if decision.grant is not None and not any(
            r.code in (Missing.REQUEST_PENDING, Missing.REQUEST_RETURNED, Missing.REQUEST_REJECTED) for r in missing
        ):
            missing.append(_grant_reason(decision.grant, at))
        elif decision.grant is None and not missing:
            missing.append(Reason(Missing.GRANT_MISSING, "You have not taken up access yet: select “Get access”."))
    elif decision.grant is not None and decision.grant.ends_at is not None and not missing:
        decision.notes.append(f"Your access ends on {decision.grant.ends_at:%d %b %Y}.")

    decision.allowed = not missing
    return decision
