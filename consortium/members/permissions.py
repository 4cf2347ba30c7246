"""Who may do what with organisations and rosters. Plain predicates for views, services and templates."""

from typing import Any

from django.conf import settings

from consortium.members.models import Organisation, OrganisationRole, Person


def person_of(user: Any) -> Person | None:
    if not getattr(user, "is_authenticated", False):
        return None
    try:
        return user.person
    except Person.DoesNotExist:
        return None


def has_org_role(user: Any, organisation: Organisation, role: str) -> bool:
    person = person_of(user)
    if person is None or person.organisation_id != organisation.pk or not person.is_approved_member:
        return False
    return person.roles.filter(organisation=organisation, role=role).exists()


def is_primary_contact(user: Any, organisation: Organisation) -> bool:
    return has_org_role(user, organisation, OrganisationRole.Role.PRIMARY_CONTACT)


def is_submitter(user: Any, organisation: Organisation) -> bool:
    return has_org_role(user, organisation, OrganisationRole.Role.SUBMITTER)


def is_signatory(user: Any, organisation: Organisation) -> bool:
    return has_org_role(user, organisation, OrganisationRole.Role.SIGNATORY)


def is_staff_admin(user: Any) -> bool:
    """Consortium staff with every right. Dataset admins are staff too, but not superusers."""
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.is_superuser)


def user_has_mfa(user: Any) -> bool:
    """A TOTP authenticator is set up (allauth's MFA)."""
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def mfa_exempt_in_demo(user: Any) -> bool:
    """In demo mode (DEMO_MODE=1) the seeded demo accounts may use their powers without MFA."""
    person = person_of(user)
    return bool(settings.DEMO_MODE and person is not None and person.is_demo)


def staff_must_enrol_mfa(user: Any) -> bool:
    """A staff account (staff admins and dataset admins) that must set up MFA before it may act."""
    if not (user.is_authenticated and user.is_staff):
        return False
    return not mfa_exempt_in_demo(user) and not user_has_mfa(user)


def can_manage_roster(user: Any, organisation: Organisation) -> bool:
    """Primary contacts run their own organisation's roster; staff admins run every roster."""
    return is_staff_admin(user) or is_primary_contact(user, organisation)


def can_view_directory(user: Any) -> bool:
    """The member directory is for people with an account (verified by allauth before login)."""
    return bool(getattr(user, "is_authenticated", False))


def can_view_roster_names(user: Any, organisation: Organisation) -> bool:
    """Colleagues and staff see who belongs to an organisation; other members see its contacts only."""
    if is_staff_admin(user):
        return True
    person = person_of(user)
    return person is not None and person.is_approved_member and person.organisation_id == organisation.pk
