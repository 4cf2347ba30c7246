"""Who may do what with organisations and rosters. Plain predicates for views, services and templates."""

from typing import TypeAlias, TypeGuard

from django.contrib.auth.models import AnonymousUser

from consortium.members.models import Organisation, OrganisationRole, Person, User

# Who a predicate judges: request.user (or the API's request.auth), a signed-in account or the
# anonymous visitor. Services that need a signed-in actor take `User`.
Viewer: TypeAlias = User | AnonymousUser


def signed_in(user: Viewer) -> TypeGuard[User]:
    """Whether `user` is a signed-in account. Anything without `is_authenticated` (None from a
    caller that has no request) counts as anonymous, as it always has."""
    return bool(getattr(user, "is_authenticated", False))


def person_of(user: Viewer) -> Person | None:
    if not signed_in(user):
        return None
    try:
        return user.person
    except Person.DoesNotExist:
        return None


def has_org_role(user: Viewer, organisation: Organisation, role: str) -> bool:
    person = person_of(user)
    if person is None or person.organisation_id != organisation.pk or not person.is_approved_member:
        return False
    return person.roles.filter(organisation=organisation, role=role).exists()


def is_primary_contact(user: Viewer, organisation: Organisation) -> bool:
    return has_org_role(user, organisation, OrganisationRole.Role.PRIMARY_CONTACT)


def is_submitter(user: Viewer, organisation: Organisation) -> bool:
    return has_org_role(user, organisation, OrganisationRole.Role.SUBMITTER)


def is_signatory(user: Viewer, organisation: Organisation) -> bool:
    return has_org_role(user, organisation, OrganisationRole.Role.SIGNATORY)


def is_staff_admin(user: Viewer) -> bool:
    """Consortium staff with every right. Dataset admins are staff too, but not superusers."""
    return signed_in(user) and user.is_active and user.is_superuser


def can_manage_roster(user: Viewer, organisation: Organisation) -> bool:
    """Primary contacts run their own organisation's roster; staff admins run every roster."""
    return is_staff_admin(user) or is_primary_contact(user, organisation)


def can_view_directory(user: Viewer) -> bool:
    """The member directory is for people with an account (verified by allauth before login)."""
    return signed_in(user)


def can_view_roster_names(user: Viewer, organisation: Organisation) -> bool:
    """Colleagues and staff see who belongs to an organisation; other members see its contacts only."""
    if is_staff_admin(user):
        return True
    person = person_of(user)
    return person is not None and person.is_approved_member and person.organisation_id == organisation.pk
