"""Writes of agreements: versions drafted and published, acceptances signed."""

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from consortium.audit.services import audit_record
from consortium.licensing import permissions
from consortium.licensing.access import (
    access_decision,
    agreement_status,
)
from consortium.licensing.models import (
    Acceptance,
    Agreement,
    AgreementVersion,
    Dataset,
    Grant,
    normalise_text,
)
from consortium.licensing.services._shared import Cause, GrantState, _require_admin, _same_name
from consortium.licensing.services.grants import SELF_SERVICE, _grant_create, _grant_reinstate
from consortium.members.models import Organisation, Person, User


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
    actor: User,
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
def agreement_version_update_draft(*, version: AgreementVersion, actor: User, **fields: Any) -> AgreementVersion:
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
    *, version: AgreementVersion, actor: User, ip_address: str | None = None, today: dt.date | None = None
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
    actor: User,
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


# --- Acceptances ------------------------------------------------------------------------------


@transaction.atomic
def agreement_accept(
    *,
    dataset: Dataset,
    person: Person,
    version_id: int,
    text_sha256: str,
    typed_name: str,
    actor: User,
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
    *, acceptance: Acceptance, dataset: Dataset, person: Person, organisation: Organisation | None, actor: User
) -> None:
    holder: dict[str, Organisation | Person] = {"organisation": organisation} if organisation else {"person": person}
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
