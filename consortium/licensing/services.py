"""Writes of dataset licensing: one transaction per action, every change in the audit log.

Errors a person can fix are ValidationErrors whose message is shown as is; nothing is changed
when one is raised. Mail goes out through transaction.on_commit, after the change is durable.
"""

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from consortium.audit.services import audit_record
from consortium.licensing import notices, permissions
from consortium.licensing.access import (
    GOOD_STANDING,
    Missing,
    access_decision,
    agreement_status,
    cooldown_ends,
)
from consortium.licensing.models import (
    Acceptance,
    AccessRequest,
    Agreement,
    AgreementVersion,
    Dataset,
    Grant,
    GrantNoticeKind,
    Licence,
    normalise_text,
)
from consortium.licensing.spdx import KNOWN_NAMES, InvalidExpression, catalogue_entries, normalise_expression
from consortium.members.models import Organisation, Person
from consortium.members.selectors import current_membership

RequestState = AccessRequest.State
GrantState = Grant.State
Cause = Grant.SuspensionCause


def _mail(*, key: str, about: str, recipients: list[str], subject: str, body: str) -> int:
    return notices.send(key=key, about=about, recipients=recipients, subject=subject, body=body)


def _same_name(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


# --- Licences ---------------------------------------------------------------------------------


@transaction.atomic
def licence_create(
    *,
    expression: str,
    name: str = "",
    url: str = "",
    text: str = "",
    attribution: bool = False,
    share_alike: bool = False,
    non_commercial: bool = False,
    members_only: bool = False,
    actor: Any | None = None,
) -> Licence:
    try:
        normalised = normalise_expression(expression)
    except InvalidExpression as exc:
        raise ValidationError({"expression": str(exc)}) from exc
    if Licence.objects.filter(expression=normalised).exists():
        raise ValidationError({"expression": f"The catalogue already has {normalised}."})
    licence = Licence.objects.create(
        expression=normalised,
        name=name or KNOWN_NAMES.get(normalised, ""),
        url=url,
        text=text,
        attribution=attribution,
        share_alike=share_alike,
        non_commercial=non_commercial,
        members_only=members_only,
    )
    audit_record(actor=actor, action="licensing.licence_created", target=licence)
    return licence


def licence_catalogue_sync(*, licence_model: Any = Licence) -> int:
    """Adds the SPDX list shipped with license-expression to the catalogue; returns how many were new.

    Idempotent; existing entries (which admins may have refined) are left alone. Also used by the
    data migration with the historical model.
    """
    existing = set(licence_model.objects.values_list("expression", flat=True))
    new = [
        licence_model(
            expression=entry.key,
            name=KNOWN_NAMES.get(entry.key, ""),
            attribution=entry.attribution,
            share_alike=entry.share_alike,
            non_commercial=entry.non_commercial,
            from_spdx_list=True,
            is_deprecated=entry.is_deprecated,
        )
        for entry in catalogue_entries()
        if entry.key not in existing
    ]
    licence_model.objects.bulk_create(new, ignore_conflicts=True, batch_size=500)
    return len(new)


# --- Agreement versions -----------------------------------------------------------------------


def _require_admin(actor: Any) -> None:
    if not permissions.can_administer_licensing(actor):
        raise PermissionDenied("Only dataset admins and staff may do this.")


@transaction.atomic
def agreement_version_draft(
    *,
    agreement: Agreement,
    label: str,
    text: str,
    effective_date: dt.date | None = None,
    is_material: bool = False,
    grace_days: int = 30,
    change_summary: str = "",
    actor: Any,
) -> AgreementVersion:
    """A new draft version; nothing changes for members until it is published."""
    _require_admin(actor)
    label = label.strip()
    if AgreementVersion.objects.filter(agreement=agreement, label=label).exists():
        raise ValidationError({"label": f"“{agreement}” already has a version {label}."})
    version = AgreementVersion.objects.create(
        agreement=agreement,
        label=label,
        text=normalise_text(text),
        effective_date=effective_date or timezone.localdate(),
        is_material=is_material,
        grace_days=grace_days,
        change_summary=change_summary,
    )
    audit_record(
        actor=actor,
        action="licensing.agreement_version_drafted",
        target=version,
        data={"label": label, "sha256": version.text_sha256},
    )
    return version


@transaction.atomic
def agreement_version_update_draft(*, version: AgreementVersion, actor: Any, **fields: Any) -> AgreementVersion:
    _require_admin(actor)
    version = AgreementVersion.objects.select_for_update().get(pk=version.pk)
    if version.is_published:
        raise ValidationError(
            f"Version {version.label} of “{version.agreement}” is published and cannot be edited. "
            "Use “Publish new version” to change the text."
        )
    allowed = {"label", "text", "effective_date", "is_material", "grace_days", "change_summary"}
    for name, value in fields.items():
        if name not in allowed:
            raise ValueError(f"Unknown field {name}")
        setattr(version, name, value)
    version.save()
    audit_record(actor=actor, action="licensing.agreement_version_edited", target=version)
    return version


def latest_published(agreement: Agreement) -> AgreementVersion | None:
    return AgreementVersion.objects.filter(agreement=agreement, published_at__isnull=False).order_by("-number").first()


@transaction.atomic
def agreement_version_publish(
    *, version: AgreementVersion, actor: Any, ip_address: str | None = None, today: dt.date | None = None
) -> AgreementVersion:
    """Publishes a draft: from now on its text never changes. A material version's holders are told."""
    _require_admin(actor)
    # Lock the agreement so two publications cannot take the same number.
    Agreement.objects.select_for_update().get(pk=version.agreement_id)
    version = AgreementVersion.objects.select_for_update().get(pk=version.pk)
    if version.is_published:
        raise ValidationError(f"Version {version.label} of “{version.agreement}” is already published.")
    if not version.text.strip():
        raise ValidationError("An agreement version needs its text.")
    previous = latest_published(version.agreement)
    if previous is not None and version.effective_date < previous.effective_date:
        raise ValidationError(
            f"Version {version.label} cannot take effect on {version.effective_date:%d %b %Y}, "
            f"before version {previous.label} ({previous.effective_date:%d %b %Y})."
        )
    number = (AgreementVersion.objects.filter(agreement=version.agreement).aggregate(n=Max("number"))["n"] or 0) + 1
    version.number = number
    version.published_at = timezone.now()
    version.published_by = actor
    version.save()
    audit_record(
        actor=actor,
        action="licensing.agreement_version_published",
        target=version,
        ip_address=ip_address,
        data={
            "label": version.label,
            "number": number,
            "sha256": version.text_sha256,
            "material": version.is_material,
            "effective_date": version.effective_date.isoformat(),
            "grace_days": version.grace_days,
            "previous": previous.pk if previous else None,
        },
    )
    if version.is_material and previous is not None:
        from consortium.licensing.tasks import notify_new_agreement_version

        transaction.on_commit(lambda: notify_new_agreement_version.delay(version_id=version.pk), robust=True)
    return version


@transaction.atomic
def agreement_version_publish_new(
    *,
    agreement: Agreement,
    label: str,
    text: str,
    effective_date: dt.date,
    is_material: bool,
    grace_days: int,
    change_summary: str = "",
    actor: Any,
    ip_address: str | None = None,
) -> AgreementVersion:
    """Editing a published agreement: the new text becomes a new version, published at once."""
    previous = latest_published(agreement)
    if previous is not None and normalise_text(text).strip() == previous.text.strip():
        raise ValidationError(f"The text is identical to version {previous.label}; a new version needs a changed text.")
    version = agreement_version_draft(
        agreement=agreement,
        label=label,
        text=text,
        effective_date=effective_date,
        is_material=is_material,
        grace_days=grace_days,
        change_summary=change_summary,
        actor=actor,
    )
    return agreement_version_publish(version=version, actor=actor, ip_address=ip_address)


# --- Grants -----------------------------------------------------------------------------------


def _default_end(dataset: Dataset, start: dt.datetime) -> dt.datetime | None:
    return start + dt.timedelta(days=dataset.grant_days) if dataset.grant_days else None


def _expire_stale(grants) -> None:
    """Active grants past their end are expired before a new one for the same holder is made."""
    now = timezone.now()
    for grant in grants.filter(state=GrantState.ACTIVE, ends_at__lte=now):
        _grant_expire(grant=grant, at=now)


def _grant_create(
    *,
    dataset: Dataset,
    person: Person | None = None,
    organisation: Organisation | None = None,
    actor: Any | None,
    access_request: AccessRequest | None = None,
    acceptance: Acceptance | None = None,
    ends_at: dt.datetime | None = None,
    reason: str = "",
    ip_address: str | None = None,
) -> Grant:
    holder_filter = {"person": person} if person is not None else {"organisation": organisation}
    live = Grant.objects.select_for_update().filter(dataset=dataset, **holder_filter)
    _expire_stale(live)
    existing = live.filter(state__in=Grant.LIVE_STATES).first()
    if existing is not None:
        raise ValidationError(
            f"{existing.holder} already has a grant for {dataset} ({existing.get_state_display().lower()}); "
            "extend or reinstate it instead."
        )
    start = timezone.now()
    if dataset.needs_membership:
        membership_org_id = (
            organisation.pk if organisation is not None else (person.organisation_id if person else None)
        )
    else:
        membership_org_id = None
    grant = Grant.objects.create(
        dataset=dataset,
        person=person,
        organisation=organisation,
        starts_at=start,
        ends_at=ends_at if ends_at is not None else _default_end(dataset, start),
        membership_organisation_id=membership_org_id,
        access_request=access_request,
        acceptance=acceptance,
        granted_by=actor if getattr(actor, "is_authenticated", False) else None,
        reason=reason,
    )
    audit_record(
        actor=actor,
        action="licensing.grant_created",
        target=grant,
        organisation=organisation or (person.organisation if person else None),
        ip_address=ip_address,
        reason=reason,
        data={
            "dataset": dataset.slug,
            "ends_at": grant.ends_at.isoformat() if grant.ends_at else None,
            "rests_on": grant.rests_on,
        },
    )
    return grant


@transaction.atomic
def grant_create(
    *,
    dataset: Dataset,
    actor: Any,
    person: Person | None = None,
    organisation: Organisation | None = None,
    ends_at: dt.datetime | None = None,
    reason: str = "",
    ip_address: str | None = None,
) -> Grant:
    """A dataset admin grants access directly (to a person, or organisation-wide)."""
    _require_admin(actor)
    if (person is None) == (organisation is None):
        raise ValidationError("A grant is for a person or for an organisation, not both.")
    if ends_at is not None and ends_at <= timezone.now():
        raise ValidationError({"ends_at": "The end must be in the future."})
    return _grant_create(
        dataset=dataset,
        person=person,
        organisation=organisation,
        actor=actor,
        ends_at=ends_at,
        reason=reason,
        ip_address=ip_address,
    )


SELF_SERVICE = {Missing.GRANT_MISSING, Missing.GRANT_EXPIRED}


@transaction.atomic
def grant_take_up(*, dataset: Dataset, person: Person, actor: Any, ip_address: str | None = None) -> Grant:
    """“Get access”: when nothing but the grant itself is missing (open, members-only, renewal)."""
    if dataset.requires_approval:
        raise ValidationError("This dataset needs a dataset admin's approval: request access instead.")
    decision = access_decision(person, dataset)
    if decision.allowed:
        raise ValidationError("You already have access to this dataset.")
    blocking = [r for r in decision.missing if r.code not in SELF_SERVICE]
    if blocking:
        raise ValidationError([r.message for r in blocking])
    if dataset.agreement_id and dataset.agreement.signed_by_organisation:
        raise ValidationError(f"Access to {dataset} is organisation-wide; ask your organisation's signatory.")
    return _grant_create(
        dataset=dataset,
        person=person,
        actor=actor,
        acceptance=decision.acceptance,
        ip_address=ip_address,
    )


def _grant_locked(grant: Grant) -> Grant:
    return (
        Grant.objects.select_for_update(of=("self",))
        .select_related("dataset", "person", "organisation")
        .get(pk=grant.pk)
    )


def _holder_org(grant: Grant) -> Organisation | None:
    return grant.organisation if grant.organisation_id else (grant.person.organisation if grant.person else None)


@transaction.atomic
def grant_revoke(*, grant: Grant, actor: Any, reason: str, ip_address: str | None = None) -> Grant:
    """Ends a grant at once; download links stop working with it."""
    _require_admin(actor)
    if not reason.strip():
        raise ValidationError({"reason": "Give a reason: the holder sees it."})
    grant = _grant_locked(grant)
    if grant.state not in Grant.LIVE_STATES:
        raise ValidationError(f"This grant is already {grant.get_state_display().lower()}; nothing changed.")
    grant.state = GrantState.REVOKED
    grant.suspension_cause = Cause.NONE
    grant.ended_at = timezone.now()
    grant.ended_by = actor
    grant.reason = reason.strip()
    grant.save(update_fields=["state", "suspension_cause", "ended_at", "ended_by", "reason"])
    audit_record(
        actor=actor,
        action="licensing.grant_revoked",
        target=grant,
        organisation=_holder_org(grant),
        ip_address=ip_address,
        reason=grant.reason,
    )
    _mail(
        key=f"licensing.grant:{grant.pk}:revoked",
        about=f"licensing.grant:{grant.pk}",
        recipients=notices.grant_recipients(grant),
        subject=f"Access to {grant.dataset} revoked",
        body=f"Your access to {grant.dataset} was revoked: {grant.reason}\n\n{notices.dataset_link(grant)}\n",
    )
    return grant


@transaction.atomic
def grant_extend(
    *, grant: Grant, ends_at: dt.datetime | None, actor: Any, reason: str = "", ip_address: str | None = None
) -> Grant:
    """Moves the end of a grant (empty for no end). An expired grant becomes active again."""
    _require_admin(actor)
    grant = _grant_locked(grant)
    now = timezone.now()
    if grant.state == GrantState.REVOKED:
        raise ValidationError("A revoked grant cannot be extended; create a new grant instead.")
    if ends_at is not None and ends_at <= now:
        raise ValidationError({"ends_at": "The new end must be in the future."})
    previous_end = grant.ends_at
    if grant.state == GrantState.EXPIRED:
        holder = {"person_id": grant.person_id} if grant.person_id else {"organisation_id": grant.organisation_id}
        if (
            Grant.objects.filter(dataset=grant.dataset, state__in=Grant.LIVE_STATES, **holder)
            .exclude(pk=grant.pk)
            .exists()
        ):
            raise ValidationError("The holder has a newer grant for this dataset; extend that one.")
        grant.state = GrantState.ACTIVE
        grant.ended_at = None
        grant.ended_by = None
    grant.ends_at = ends_at
    grant.reason = reason.strip() or grant.reason
    grant.save(update_fields=["state", "ends_at", "ended_at", "ended_by", "reason"])
    audit_record(
        actor=actor,
        action="licensing.grant_extended",
        target=grant,
        organisation=_holder_org(grant),
        ip_address=ip_address,
        reason=reason,
        data={
            "from": previous_end.isoformat() if previous_end else None,
            "to": ends_at.isoformat() if ends_at else None,
        },
    )
    return grant


def _grant_suspend(*, grant: Grant, cause: str, actor: Any | None, reason: str = "") -> bool:
    """Suspends an active grant (conditional update: a second run does nothing). True if it changed."""
    changed = Grant.objects.filter(pk=grant.pk, state=GrantState.ACTIVE).update(
        state=GrantState.SUSPENDED, suspension_cause=cause, reason=reason
    )
    if not changed:
        return False
    grant.refresh_from_db()
    audit_record(
        actor=actor,
        action="licensing.grant_suspended",
        target=grant,
        organisation=_holder_org(grant),
        reason=reason,
        data={"cause": cause},
    )
    _notice(
        grant,
        GrantNoticeKind.SUSPENDED,
        reference=f"{cause}:{timezone.now():%Y-%m-%d}",
        subject=f"Access to {grant.dataset} suspended",
        body=f"Access to {grant.dataset} is suspended: {reason}\n\n{notices.dataset_link(grant)}\n",
    )
    return True


@transaction.atomic
def grant_suspend(*, grant: Grant, actor: Any, reason: str, ip_address: str | None = None) -> Grant:
    _require_admin(actor)
    if not reason.strip():
        raise ValidationError({"reason": "Give a reason: the holder sees it."})
    if not _grant_suspend(grant=grant, cause=Cause.ADMIN, actor=actor, reason=reason.strip()):
        raise ValidationError("Only an active grant can be suspended; nothing changed.")
    return grant


def _grant_reinstate(*, grant: Grant, actor: Any | None, reason: str = "", ip_address: str | None = None) -> bool:
    changed = Grant.objects.filter(pk=grant.pk, state=GrantState.SUSPENDED).update(
        state=GrantState.ACTIVE, suspension_cause=Cause.NONE, reason=reason
    )
    if changed:
        grant.refresh_from_db()
        audit_record(
            actor=actor,
            action="licensing.grant_reinstated",
            target=grant,
            organisation=_holder_org(grant),
            ip_address=ip_address,
            reason=reason,
        )
    return bool(changed)


@transaction.atomic
def grant_reinstate(*, grant: Grant, actor: Any, reason: str = "", ip_address: str | None = None) -> Grant:
    """A dataset admin lifts a suspension. The predicate still checks membership and agreement."""
    _require_admin(actor)
    if not _grant_reinstate(
        grant=grant, actor=actor, reason=reason or "Reinstated by a dataset admin", ip_address=ip_address
    ):
        raise ValidationError("Only a suspended grant can be reinstated; nothing changed.")
    return grant


def _grant_expire(*, grant: Grant, at: dt.datetime) -> bool:
    changed = Grant.objects.filter(pk=grant.pk, state=GrantState.ACTIVE, ends_at__lte=at).update(
        state=GrantState.EXPIRED, ended_at=at
    )
    if changed:
        grant.refresh_from_db()
        audit_record(actor=None, action="licensing.grant_expired", target=grant, organisation=_holder_org(grant))
    return bool(changed)


def _notice(grant: Grant, kind: str, *, reference: str, subject: str, body: str) -> bool:
    """Queues a notice in the outbox unless it was already queued (once per grant, kind and
    reference). True if queued now."""
    if notices.grant_notice_sent(grant.pk, kind, reference):
        return False
    return bool(
        _mail(
            key=notices.grant_notice_key(grant.pk, kind, reference),
            about=f"licensing.grant:{grant.pk}",
            recipients=notices.grant_recipients(grant),
            subject=subject,
            body=body,
        )
    )


# --- Acceptances ------------------------------------------------------------------------------


@transaction.atomic
def agreement_accept(
    *,
    dataset: Dataset,
    person: Person,
    version_id: int,
    text_sha256: str,
    typed_name: str,
    actor: Any,
    ip_address: str | None = None,
    user_agent: str = "",
) -> Acceptance:
    """Signs the dataset's agreement (the exact version shown) for the person, or for their organisation
    when a signatory signs an organisation agreement. Creates or restores the grant it completes."""
    agreement = dataset.agreement
    if agreement is None:
        raise ValidationError(f"{dataset} has no agreement to accept.")
    # Lock the signer: two submissions of the same form cannot both sign.
    person = Person.objects.select_for_update(of=("self",)).select_related("organisation", "user").get(pk=person.pk)
    status = agreement_status(
        agreement,
        person=person,
        organisation=person.organisation if person.is_approved_member else None,
        at=timezone.now(),
    )
    current = status.current
    if current is None:
        raise ValidationError(f"“{agreement}” has not been published yet.")
    if int(version_id) != current.pk or text_sha256 != current.text_sha256:
        raise ValidationError(
            f"The agreement changed while you were reading it: version {current.label} is now in force. "
            "Nothing was signed. Read the current text below and accept it again."
        )
    organisation = None
    if agreement.signed_by_organisation:
        organisation = person.organisation if person.is_approved_member else None
        if not permissions.can_sign_for(person.user, organisation):
            raise PermissionDenied(
                f"Only a signatory of {organisation or 'a member organisation'} may sign “{agreement}” for it."
            )
    if not person.full_name.strip():
        raise ValidationError("Add your full name to your profile before signing: the typed name must match it.")
    if not _same_name(typed_name, person.full_name):
        raise ValidationError(
            {
                "typed_name": f"The name you typed, “{typed_name.strip()}”, does not match the name on your "
                f"profile, “{person.full_name}”. Type it exactly as on your profile."
            }
        )
    if status.acceptance is not None and status.acceptance.agreement_version_id == current.pk:
        who = f"{organisation} has" if organisation else "You have"
        raise ValidationError(
            f"{who} already accepted version {current.label} on {status.acceptance.accepted_at:%d %b %Y}."
        )
    acceptance = Acceptance.objects.create(
        person=person,
        organisation=organisation,
        agreement_version=current,
        version_label=current.label,
        text_sha256=current.text_sha256,
        typed_name=" ".join(typed_name.split()),
        ip_address=ip_address,
        user_agent=(user_agent or "")[:500],
    )
    audit_record(
        actor=actor,
        action="licensing.agreement_accepted",
        target=acceptance,
        organisation=organisation or person.organisation,
        ip_address=ip_address,
        data={
            "agreement": agreement.slug,
            "version": current.label,
            "sha256": current.text_sha256,
            "on_behalf_of": organisation.slug if organisation else None,
            "dataset": dataset.slug,
        },
    )
    _after_acceptance(acceptance=acceptance, dataset=dataset, person=person, organisation=organisation, actor=actor)
    return acceptance


def _after_acceptance(
    *, acceptance: Acceptance, dataset: Dataset, person: Person, organisation: Organisation | None, actor: Any
) -> None:
    holder = {"organisation": organisation} if organisation else {"person": person}
    agreement = acceptance.agreement_version.agreement
    # Grants on every dataset under this agreement rest on the new acceptance; a suspension that
    # waited for it ends.
    for grant in Grant.objects.select_for_update().filter(
        dataset__agreement=agreement, state__in=Grant.LIVE_STATES, **holder
    ):
        grant.acceptance = acceptance
        grant.save(update_fields=["acceptance"])
        if grant.state == GrantState.SUSPENDED and grant.suspension_cause == Cause.REACCEPTANCE:
            _grant_reinstate(grant=grant, actor=actor, reason=f"Accepted version {acceptance.version_label}")
    if dataset.requires_approval:
        return
    decision = access_decision(person, dataset)
    if decision.allowed or any(r.code not in SELF_SERVICE for r in decision.missing):
        return
    _grant_create(
        dataset=dataset,
        person=None if organisation else person,
        organisation=organisation,
        actor=actor,
        acceptance=acceptance,
    )


# --- Access requests --------------------------------------------------------------------------


def _answers(dataset: Dataset, answers: dict[str, str] | list[str]) -> list[dict[str, str]]:
    values = list(answers.values()) if isinstance(answers, dict) else list(answers)
    questions = dataset.questions
    if len(values) < len(questions) or any(not str(v).strip() for v in values[: len(questions)]):
        raise ValidationError("Answer every question.")
    return [{"question": q, "answer": str(a).strip()} for q, a in zip(questions, values, strict=False)]


@transaction.atomic
def access_request_submit(
    *,
    dataset: Dataset,
    person: Person,
    purpose: str,
    answers: dict[str, str] | list[str] | None = None,
    actor: Any,
    ip_address: str | None = None,
) -> AccessRequest:
    if not dataset.requires_approval:
        raise ValidationError(f"{dataset} does not need a request: follow the steps on its page.")
    if not dataset.is_listed:
        raise ValidationError(f"{dataset} is not open for requests.")
    if not purpose.strip():
        raise ValidationError({"purpose": "Say what you will use the dataset for."})
    Person.objects.select_for_update().get(pk=person.pk)
    previous = AccessRequest.objects.filter(dataset=dataset, person=person).order_by("-submitted_at", "-id")
    open_request = previous.filter(state__in=AccessRequest.OPEN_STATES).first()
    if open_request is not None:
        raise ValidationError(
            f"You already have a request for {dataset} ({open_request.get_state_display().lower()}); "
            "edit or withdraw it instead."
        )
    decision = access_decision(person, dataset)
    if decision.grant is not None and decision.grant.is_in_force():
        raise ValidationError(f"You already have access to {dataset}.")
    last = previous.first()
    again = cooldown_ends(last, dataset) if last else None
    if again is not None and again > timezone.now():
        raise ValidationError(
            f"Your last request was rejected on {last.decided_at:%d %b %Y}; you may ask again from {again:%d %b %Y}."
        )
    request = AccessRequest.objects.create(
        dataset=dataset,
        person=person,
        organisation=person.organisation if person.is_approved_member else None,
        purpose=purpose.strip(),
        answers=_answers(dataset, answers or []),
    )
    audit_record(
        actor=actor,
        action="licensing.request_submitted",
        target=request,
        organisation=request.organisation,
        ip_address=ip_address,
        data={"dataset": dataset.slug},
    )
    return request


def _locked_request(access_request: AccessRequest) -> AccessRequest:
    return (
        AccessRequest.objects.select_for_update(of=("self",))
        .select_related("dataset", "person__user", "reviewer")
        .get(pk=access_request.pk)
    )


def _already_decided(request: AccessRequest) -> ValidationError:
    by = f" by {request.reviewer}" if request.reviewer_id else ""
    when = f" on {request.decided_at:%d %b %Y %H:%M}" if request.decided_at else ""
    return ValidationError(
        f"Request #{request.pk} from {request.person} was already "
        f"{request.get_state_display().lower()}{by}{when}; nothing changed."
    )


@transaction.atomic
def access_request_resubmit(
    *,
    access_request: AccessRequest,
    purpose: str,
    answers: dict[str, str] | list[str] | None = None,
    actor: Any,
    ip_address: str | None = None,
) -> AccessRequest:
    request = _locked_request(access_request)
    if not permissions.can_change_request(actor, request):
        raise PermissionDenied("Only the person who asked may change this request.")
    if request.state != RequestState.RETURNED:
        raise ValidationError("Only a request returned for changes can be resubmitted.")
    if not purpose.strip():
        raise ValidationError({"purpose": "Say what you will use the dataset for."})
    request.purpose = purpose.strip()
    request.answers = _answers(request.dataset, answers or [])
    request.state = RequestState.SUBMITTED
    request.submitted_at = timezone.now()
    request.save(update_fields=["purpose", "answers", "state", "submitted_at"])
    audit_record(
        actor=actor,
        action="licensing.request_resubmitted",
        target=request,
        organisation=request.organisation,
        ip_address=ip_address,
    )
    return request


@transaction.atomic
def access_request_withdraw(
    *, access_request: AccessRequest, actor: Any, ip_address: str | None = None
) -> AccessRequest:
    request = _locked_request(access_request)
    if not permissions.can_change_request(actor, request):
        raise PermissionDenied("Only the person who asked may withdraw this request.")
    if not request.is_open:
        raise ValidationError(f"This request is already {request.get_state_display().lower()}.")
    request.state = RequestState.WITHDRAWN
    request.decided_at = timezone.now()
    request.save(update_fields=["state", "decided_at"])
    audit_record(
        actor=actor,
        action="licensing.request_withdrawn",
        target=request,
        organisation=request.organisation,
        ip_address=ip_address,
    )
    return request


def _decide(request: AccessRequest, state: str, *, actor: Any, reason: str, ip_address: str | None) -> AccessRequest:
    if request.state != RequestState.SUBMITTED:
        raise _already_decided(request)
    request.state = state
    request.reviewer = actor
    request.reason = reason.strip()
    request.decided_at = timezone.now()
    request.save(update_fields=["state", "reviewer", "reason", "decided_at"])
    audit_record(
        actor=actor,
        action=f"licensing.request_{state}",
        target=request,
        organisation=request.organisation,
        ip_address=ip_address,
        reason=request.reason,
        data={"dataset": request.dataset.slug},
    )
    label = request.get_state_display().lower()
    why = f"\nReason: {request.reason}\n" if request.reason else "\n"
    _mail(
        key=f"licensing.access_request:{request.pk}:{request.state}",
        about=f"licensing.access_request:{request.pk}",
        recipients=[request.person.user.email],
        subject=f"Your request for {request.dataset} was {label}",
        body=f"Your request for access to {request.dataset} was {label}.{why}\n"
        f"{notices.dataset_link(request.dataset)}\n",
    )
    return request


@transaction.atomic
def access_request_approve(
    *,
    access_request: AccessRequest,
    actor: Any,
    reason: str = "",
    ends_at: dt.datetime | None = None,
    ip_address: str | None = None,
) -> Grant:
    """Approves a submitted request and grants access (the agreement, if any, must still be accepted)."""
    _require_admin(actor)
    request = _locked_request(access_request)
    if request.state != RequestState.SUBMITTED:
        raise _already_decided(request)
    if ends_at is not None and ends_at <= timezone.now():
        raise ValidationError({"ends_at": "The end must be in the future."})
    _decide(request, RequestState.APPROVED, actor=actor, reason=reason, ip_address=ip_address)
    person = request.person
    acceptance = None
    if request.dataset.agreement_id:
        acceptance = access_decision(person, request.dataset).acceptance
    return _grant_create(
        dataset=request.dataset,
        person=person,
        actor=actor,
        access_request=request,
        acceptance=acceptance,
        ends_at=ends_at,
        reason=reason,
        ip_address=ip_address,
    )


@transaction.atomic
def access_request_reject(
    *, access_request: AccessRequest, actor: Any, reason: str, ip_address: str | None = None
) -> AccessRequest:
    _require_admin(actor)
    if not reason.strip():
        raise ValidationError({"reason": "Give a reason for the rejection: the person sees it."})
    return _decide(
        _locked_request(access_request),
        RequestState.REJECTED,
        actor=actor,
        reason=reason,
        ip_address=ip_address,
    )


@transaction.atomic
def access_request_return(
    *, access_request: AccessRequest, actor: Any, reason: str, ip_address: str | None = None
) -> AccessRequest:
    _require_admin(actor)
    if not reason.strip():
        raise ValidationError({"reason": "Say what should change: the person sees it."})
    return _decide(
        _locked_request(access_request),
        RequestState.RETURNED,
        actor=actor,
        reason=reason,
        ip_address=ip_address,
    )


# --- Cascades and scheduled work ----------------------------------------------------------------


def grants_suspend_for_departure(*, person: Person, organisation: Organisation, actor: Any) -> int:
    """Departure hook (members.services): a leaver's grants that rested on the organisation are suspended.

    Runs inside the roster transaction."""
    count = 0
    for grant in Grant.objects.filter(
        person=person, membership_organisation=organisation, state=GrantState.ACTIVE
    ).select_related("dataset"):
        count += _grant_suspend(
            grant=grant,
            cause=Cause.DEPARTURE,
            actor=actor,
            reason=f"{person} left {organisation}, on whose membership this access depended.",
        )
    return count


def _membership_good(organisation_id: int, day: dt.date, cache: dict) -> bool:
    if organisation_id not in cache:
        org = Organisation.objects.prefetch_related("memberships").get(pk=organisation_id)
        membership = current_membership(org, day)
        cache[organisation_id] = membership is not None and membership.status_on(day) in GOOD_STANDING
    return cache[organisation_id]


@transaction.atomic
def grants_apply_membership(*, at: dt.datetime | None = None) -> dict[str, int]:
    """Suspends grants whose organisation's membership lapsed or was withdrawn or suspended; lifts such
    suspensions (and departures of people who came back) once the membership is in good standing."""
    at = at or timezone.now()
    day = timezone.localdate(at)
    cache: dict[int, bool] = {}
    suspended = reinstated = 0
    for grant in Grant.objects.filter(state=GrantState.ACTIVE, membership_organisation__isnull=False).select_related(
        "dataset", "membership_organisation"
    ):
        if not _membership_good(grant.membership_organisation_id, day, cache):
            suspended += _grant_suspend(
                grant=grant,
                cause=Cause.MEMBERSHIP,
                actor=None,
                reason=f"{grant.membership_organisation}'s membership is not in good standing.",
            )
    for grant in Grant.objects.filter(
        state=GrantState.SUSPENDED,
        suspension_cause__in=[Cause.MEMBERSHIP, Cause.DEPARTURE],
        membership_organisation__isnull=False,
    ).select_related("person"):
        if not _membership_good(grant.membership_organisation_id, day, cache):
            continue
        if grant.person_id and not (
            grant.person.organisation_id == grant.membership_organisation_id and grant.person.is_approved_member
        ):
            continue
        reinstated += _grant_reinstate(grant=grant, actor=None, reason="Membership in good standing again")
    return {"suspended": suspended, "reinstated": reinstated}


@transaction.atomic
def grants_expire(*, at: dt.datetime | None = None) -> int:
    at = at or timezone.now()
    count = 0
    for grant in Grant.objects.filter(state=GrantState.ACTIVE, ends_at__lte=at).select_related("dataset"):
        if _grant_expire(grant=grant, at=at):
            count += 1
            _notice(
                grant,
                GrantNoticeKind.EXPIRED,
                reference=grant.ends_at.date().isoformat(),
                subject=f"Your access to {grant.dataset} has expired",
                body=f"Your access to {grant.dataset} ended on {grant.ends_at:%d %b %Y}.\n\n"
                f"{notices.dataset_link(grant)}\n",
            )
    return count


@transaction.atomic
def grants_send_expiry_reminders(*, at: dt.datetime | None = None) -> int:
    """Reminds holders 30 and 7 days before the end; each reminder once per end date."""
    at = at or timezone.now()
    sent = 0
    for grant in Grant.objects.filter(
        state=GrantState.ACTIVE, ends_at__gt=at, ends_at__lte=at + dt.timedelta(days=30)
    ).select_related("dataset", "person__user"):
        days_left = (grant.ends_at - at).days
        reference = grant.ends_at.date().isoformat()
        if days_left < 7:
            kind = GrantNoticeKind.EXPIRY_7
        elif notices.grant_notice_sent(grant.pk, GrantNoticeKind.EXPIRY_7, reference):
            continue
        else:
            kind = GrantNoticeKind.EXPIRY_30
        sent += _notice(
            grant,
            kind,
            reference=reference,
            subject=f"Your access to {grant.dataset} ends on {grant.ends_at:%d %b %Y}",
            body=f"Your access to {grant.dataset} ends on {grant.ends_at:%d %b %Y}. "
            f"Renew it from the dataset page:\n\n{notices.dataset_link(grant)}\n",
        )
    return sent


def _live_grants_under(agreement: Agreement):
    return Grant.objects.filter(dataset__agreement=agreement, state=GrantState.ACTIVE).select_related(
        "dataset__agreement", "person__organisation", "organisation"
    )


def _status_for_grant(grant: Grant, at: dt.datetime):
    agreement = grant.dataset.agreement
    if grant.organisation_id:
        return agreement_status(agreement, person=None, organisation=grant.organisation, at=at)
    return agreement_status(agreement, person=grant.person, organisation=None, at=at)


@transaction.atomic
def grants_apply_grace_periods(*, at: dt.datetime | None = None) -> int:
    """Suspends grants whose holder has not accepted a material version whose grace period ended."""
    at = at or timezone.now()
    count = 0
    agreements = Agreement.objects.filter(versions__is_material=True, versions__published_at__isnull=False).distinct()
    for agreement in agreements:
        for grant in _live_grants_under(agreement):
            status = _status_for_grant(grant, at)
            if status.acceptance is None or status.satisfied:
                continue
            count += _grant_suspend(
                grant=grant,
                cause=Cause.REACCEPTANCE,
                actor=None,
                reason=f"Version {status.required.label} of “{agreement}” must be accepted "
                f"(grace period ended {status.required.grace_ends:%d %b %Y}).",
            )
    return count


@transaction.atomic
def agreement_version_notify_holders(*, version_id: int, at: dt.datetime | None = None) -> int:
    """Tells each holder who accepted an older text that a material version needs accepting; once each."""
    at = at or timezone.now()
    version = AgreementVersion.objects.select_related("agreement").filter(pk=version_id).first()
    if version is None or not version.is_published or not version.is_material:
        return 0
    sent = 0
    for grant in _live_grants_under(version.agreement):
        status = _status_for_grant(grant, at)
        if status.acceptance is None or status.acceptance.agreement_version.number >= version.number:
            continue
        sent += _notice(
            grant,
            GrantNoticeKind.NEW_VERSION,
            reference=str(version.pk),
            subject=f"Please accept version {version.label} of {version.agreement}",
            body=f"Version {version.label} of “{version.agreement}” changes it materially. Accept it before "
            f"{version.grace_ends:%d %b %Y} to keep access to {grant.dataset}:\n\n"
            f"{notices.dataset_link(grant)}\n",
        )
    return sent


def licensing_daily(*, at: dt.datetime | None = None) -> dict[str, int]:
    """The daily run, each step its own transaction and safe to repeat."""
    at = at or timezone.now()
    result = {"expired": grants_expire(at=at)}
    result.update(grants_apply_membership(at=at))
    for version in AgreementVersion.objects.filter(is_material=True, published_at__isnull=False, number__gt=1):
        if timezone.localdate(at) < version.grace_ends:
            result["new_version_notices"] = result.get("new_version_notices", 0) + agreement_version_notify_holders(
                version_id=version.pk, at=at
            )
    result["reacceptance_suspended"] = grants_apply_grace_periods(at=at)
    result["reminders"] = grants_send_expiry_reminders(at=at)
    return result
