"""Writes of access requests: submitted, resubmitted, withdrawn, decided."""

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from consortium.audit.services import audit_record
from consortium.licensing import notices, permissions
from consortium.licensing.access import (
    access_decision,
    cooldown_ends,
)
from consortium.licensing.models import (
    AccessRequest,
    Dataset,
    Grant,
)
from consortium.licensing.services._shared import RequestState, _mail, _require_admin
from consortium.licensing.services.grants import _grant_create
from consortium.members.models import Person, User


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
    actor: User,
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
    if last is not None and again is not None and again > timezone.now():
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
    actor: User,
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
    *, access_request: AccessRequest, actor: User, ip_address: str | None = None
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


def _decide(request: AccessRequest, state: str, *, actor: User, reason: str, ip_address: str | None) -> AccessRequest:
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
    actor: User,
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
    *, access_request: AccessRequest, actor: User, reason: str, ip_address: str | None = None
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
    *, access_request: AccessRequest, actor: User, reason: str, ip_address: str | None = None
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
