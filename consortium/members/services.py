"""Writes to organisations, people, rosters and invitations. One transaction per action, audited."""

import datetime as dt
import hashlib
import secrets
from typing import Protocol

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from consortium.audit.services import audit_record
from consortium.common.mail import mail_enqueue, site_link
from consortium.members import permissions
from consortium.members.models import EmailDomain, Invitation, Organisation, OrganisationRole, Person, User

INVITATION_LIFETIME = dt.timedelta(days=14)
Role = OrganisationRole.Role


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _domain_of(email: str) -> str:
    return email.rsplit("@", 1)[-1].strip().lower()


def organisation_for_email(email: str) -> Organisation | None:
    domain = EmailDomain.objects.select_related("organisation").filter(domain=_domain_of(email)).first()
    return domain.organisation if domain else None


@transaction.atomic
def person_get_or_create(*, user: User) -> Person:
    person, _ = Person.objects.get_or_create(user=user)
    return person


@transaction.atomic
def person_register(*, user: User, full_name: str = "", ip_address: str | None = None) -> Person:
    """A new account: create its profile, and ask to join the organisation its email domain names."""
    person, _ = Person.objects.get_or_create(user=user, defaults={"full_name": full_name.strip()})
    organisation = organisation_for_email(user.email)
    if organisation is not None and person.organisation_id is None:
        person.organisation = organisation
        person.affiliation = Person.Affiliation.PENDING
        person.save(update_fields=["organisation", "affiliation"])
        audit_record(
            actor=user,
            action="roster.approval_requested",
            target=person,
            organisation=organisation,
            ip_address=ip_address,
            data={"email_domain": _domain_of(user.email)},
        )
    return person


@transaction.atomic
def person_update_profile(*, person: Person, full_name: str, github_handle: str) -> Person:
    person.full_name = full_name.strip()
    person.github_handle = github_handle.strip().lstrip("@")
    person.save(update_fields=["full_name", "github_handle"])
    return person


def _require_roster_manager(actor: User, organisation: Organisation) -> None:
    if not permissions.can_manage_roster(actor, organisation):
        raise PermissionDenied(f"Only a primary contact of {organisation} or staff may change its roster.")


@transaction.atomic
def person_approve(*, person: Person, actor: User, ip_address: str | None = None) -> Person:
    person = Person.objects.select_for_update().get(pk=person.pk)
    if person.organisation is None or person.affiliation != Person.Affiliation.PENDING:
        raise ValidationError("This person is not waiting for approval.")
    _require_roster_manager(actor, person.organisation)
    person.affiliation = Person.Affiliation.APPROVED
    person.affiliated_since = timezone.now()
    person.save(update_fields=["affiliation", "affiliated_since"])
    audit_record(
        actor=actor,
        action="roster.person_approved",
        target=person,
        organisation=person.organisation,
        ip_address=ip_address,
    )
    return person


@transaction.atomic
def person_decline(*, person: Person, actor: User, reason: str = "", ip_address: str | None = None) -> Person:
    person = Person.objects.select_for_update().get(pk=person.pk)
    organisation = person.organisation
    if organisation is None or person.affiliation != Person.Affiliation.PENDING:
        raise ValidationError("This person is not waiting for approval.")
    _require_roster_manager(actor, organisation)
    person.organisation = None
    person.affiliation = Person.Affiliation.NONE
    person.save(update_fields=["organisation", "affiliation"])
    audit_record(
        actor=actor,
        action="roster.person_declined",
        target=person,
        organisation=organisation,
        ip_address=ip_address,
        reason=reason,
    )
    return person


def _primary_contact_count(organisation: Organisation) -> int:
    return OrganisationRole.objects.filter(organisation=organisation, role=Role.PRIMARY_CONTACT).count()


@transaction.atomic
def person_remove_from_organisation(
    *, person: Person, actor: User, reason: str = "", ip_address: str | None = None
) -> Person:
    """A leaver: roles go, affiliation goes. The last primary contact stays until replaced."""
    person = Person.objects.select_for_update().get(pk=person.pk)
    organisation = person.organisation
    if organisation is None:
        raise ValidationError("This person does not belong to an organisation.")
    _require_roster_manager(actor, organisation)
    # Lock the organisation's role rows so two removals cannot both pass the last-contact check.
    list(OrganisationRole.objects.select_for_update().filter(organisation=organisation))
    is_primary = person.roles.filter(organisation=organisation, role=Role.PRIMARY_CONTACT).exists()
    if is_primary and _primary_contact_count(organisation) <= 1:
        raise ValidationError(
            f"{person} is the last primary contact of {organisation}. Make someone else primary contact first."
        )
    removed_roles = list(person.roles.filter(organisation=organisation).values_list("role", flat=True))
    person.roles.filter(organisation=organisation).delete()
    person.organisation = None
    person.affiliation = Person.Affiliation.NONE
    person.affiliated_since = None
    person.save(update_fields=["organisation", "affiliation", "affiliated_since"])
    audit_record(
        actor=actor,
        action="roster.person_removed",
        target=person,
        organisation=organisation,
        ip_address=ip_address,
        reason=reason,
        data={"roles_removed": removed_roles},
    )
    for hook in _departure_hooks:
        hook(person=person, organisation=organisation, actor=actor)
    return person


# Other apps (licensing grants, submissions) end what depended on a person's organisation through
# these hooks, registered in their AppConfig.ready(); explicit, in the same transaction.
class DepartureHook(Protocol):
    def __call__(self, *, person: Person, organisation: Organisation, actor: User) -> object: ...


_departure_hooks: list[DepartureHook] = []


def register_departure_hook(hook: DepartureHook) -> None:
    if hook not in _departure_hooks:
        _departure_hooks.append(hook)


@transaction.atomic
def role_grant(
    *, person: Person, organisation: Organisation, role: str, actor: User, ip_address: str | None = None
) -> OrganisationRole:
    if role not in Role.values:
        raise ValidationError(f"Unknown role {role!r}.")
    _require_roster_manager(actor, organisation)
    person = Person.objects.select_for_update().get(pk=person.pk)
    if person.organisation_id != organisation.pk or not person.is_approved_member:
        raise ValidationError(f"{person} is not an approved member of {organisation}; roles are held only there.")
    grant, created = OrganisationRole.objects.get_or_create(
        person=person, organisation=organisation, role=role, defaults={"granted_by": actor}
    )
    if not created:
        raise ValidationError(f"{person} already has the role {Role(role).label}.")
    audit_record(
        actor=actor,
        action="roster.role_granted",
        target=person,
        organisation=organisation,
        ip_address=ip_address,
        data={"role": role},
    )
    return grant


@transaction.atomic
def role_revoke(
    *, person: Person, organisation: Organisation, role: str, actor: User, ip_address: str | None = None
) -> None:
    _require_roster_manager(actor, organisation)
    list(OrganisationRole.objects.select_for_update().filter(organisation=organisation))
    grant = OrganisationRole.objects.filter(person=person, organisation=organisation, role=role).first()
    if grant is None:
        raise ValidationError(f"{person} does not have the role {Role(role).label}.")
    if role == Role.PRIMARY_CONTACT and _primary_contact_count(organisation) <= 1:
        raise ValidationError(f"{person} is the last primary contact of {organisation}; name another first.")
    grant.delete()
    audit_record(
        actor=actor,
        action="roster.role_revoked",
        target=person,
        organisation=organisation,
        ip_address=ip_address,
        data={"role": role},
    )


@transaction.atomic
def invitation_create(
    *,
    organisation: Organisation,
    email: str,
    roles: list[str],
    actor: User,
    confirm_outside_domains: bool = False,
    ip_address: str | None = None,
) -> tuple[Invitation, str]:
    """Invite a colleague by email. Returns the invitation and the token (only ever in the link)."""
    _require_roster_manager(actor, organisation)
    email = email.strip()
    unknown = [r for r in roles if r not in Role.values]
    if unknown:
        raise ValidationError({"roles": f"Unknown roles: {', '.join(unknown)}."})
    domains = set(organisation.email_domains.values_list("domain", flat=True))
    outside = _domain_of(email) not in domains
    if outside and not confirm_outside_domains:
        shown = ", ".join(sorted(domains)) or "none registered"
        raise ValidationError(
            {
                "email": ValidationError(
                    f"{email} is not at one of {organisation}'s email domains ({shown}). "
                    "Tick the confirmation to invite this address anyway.",
                    code="outside_domains",
                )
            }
        )
    if Person.objects.filter(user__email__iexact=email, organisation=organisation).exists():
        raise ValidationError({"email": f"{email} already belongs to {organisation}."})
    now = timezone.now()
    pending = Invitation.objects.filter(
        organisation=organisation, email__iexact=email, accepted_at=None, revoked_at=None, expires_at__gt=now
    )
    if pending.exists():
        raise ValidationError({"email": f"{email} already has a pending invitation; revoke it to send a new one."})
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        organisation=organisation,
        email=email,
        roles=sorted(set(roles)),
        token_hash=_hash_token(token),
        invited_by=actor,
        expires_at=now + INVITATION_LIFETIME,
        outside_domains=outside,
    )
    audit_record(
        actor=actor,
        action="roster.invitation_sent",
        target=invitation,
        organisation=organisation,
        ip_address=ip_address,
        data={"email": email, "roles": invitation.roles, "outside_domains": outside},
    )
    link = site_link("members:invitation", token=token)
    body = render_to_string("members/email/invitation.txt", {"invitation": invitation, "link": link, "inviter": actor})
    mail_enqueue(
        key=f"members.invitation:{invitation.pk}",
        subject=f"Invitation to join {organisation}",
        body=body,
        recipients=[email],
        about=f"members.invitation:{invitation.pk}",
    )
    return invitation, token


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor: User, ip_address: str | None = None) -> Invitation:
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    _require_roster_manager(actor, invitation.organisation)
    if invitation.state != Invitation.State.PENDING:
        raise ValidationError(f"This invitation is already {invitation.state.label.lower()}.")
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit_record(
        actor=actor,
        action="roster.invitation_revoked",
        target=invitation,
        organisation=invitation.organisation,
        ip_address=ip_address,
    )
    return invitation


def invitation_by_token(token: str) -> Invitation | None:
    return Invitation.objects.select_related("organisation").filter(token_hash=_hash_token(token)).first()


@transaction.atomic
def invitation_accept(*, token: str, user: User, ip_address: str | None = None) -> Person:
    invitation = Invitation.objects.select_for_update().filter(token_hash=_hash_token(token)).first()
    if invitation is None:
        raise ValidationError("This invitation link is not valid. Ask for a new invitation.")
    state = invitation.state
    if state == Invitation.State.REVOKED:
        raise ValidationError("This invitation was revoked. Ask the organisation's primary contact for a new one.")
    if state == Invitation.State.EXPIRED:
        raise ValidationError("This invitation has expired. Ask the organisation's primary contact for a new one.")
    if state == Invitation.State.ACCEPTED:
        raise ValidationError("This invitation was already accepted.")
    if user.email.lower() != invitation.email.lower():
        raise ValidationError(
            f"This invitation is for {invitation.email}, but you are logged in as {user.email}. "
            "Log in with the invited address."
        )
    person = Person.objects.select_for_update().get_or_create(user=user)[0]
    organisation = invitation.organisation
    if person.organisation_id not in (None, organisation.pk):
        raise ValidationError(
            f"You belong to {person.organisation}. Ask its primary contact to remove you before joining {organisation}."
        )
    person.organisation = organisation
    person.affiliation = Person.Affiliation.APPROVED
    person.affiliated_since = person.affiliated_since or timezone.now()
    person.save(update_fields=["organisation", "affiliation", "affiliated_since"])
    for role in invitation.roles:
        OrganisationRole.objects.get_or_create(
            person=person,
            organisation=organisation,
            role=role,
            defaults={"granted_by": invitation.invited_by},
        )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit_record(
        actor=user,
        action="roster.invitation_accepted",
        target=person,
        organisation=organisation,
        ip_address=ip_address,
        data={"invitation": invitation.pk, "roles": invitation.roles},
    )
    return person
