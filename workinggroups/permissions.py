"""Who may do what with working groups, meetings and rounds. Plain predicates for views, services
and templates alike."""

from django.db.models import QuerySet

from consortium.members.models import Organisation, OrganisationRole
from consortium.members.permissions import Viewer, has_org_role, is_staff_admin, person_of
from workinggroups.models import GroupMembership, Round, WorkingGroup

CHAIR_ROLES = (GroupMembership.Role.CHAIR, GroupMembership.Role.CO_CHAIR)


def _membership(user: Viewer, group: WorkingGroup) -> GroupMembership | None:
    person = person_of(user)
    if person is None:
        return None
    return GroupMembership.objects.filter(group=group, person=person).first()


def is_chair(user: Viewer, group: WorkingGroup) -> bool:
    """Chairs and co-chairs of `group`."""
    membership = _membership(user, group)
    return membership is not None and membership.role in CHAIR_ROLES


def is_group_member(user: Viewer, group: WorkingGroup) -> bool:
    """Anyone on the group's list, in any role (chair, co-chair, member, observer)."""
    return _membership(user, group) is not None


def chaired_groups(user: Viewer) -> QuerySet[WorkingGroup]:
    """The groups `user` chairs or co-chairs (staff admins: none by this predicate; they manage all)."""
    person = person_of(user)
    if person is None:
        return WorkingGroup.objects.none()
    return WorkingGroup.objects.filter(memberships__person=person, memberships__role__in=CHAIR_ROLES).distinct()


def is_consortium_member(user: Viewer) -> bool:
    """A logged-in person approved by a member organisation."""
    person = person_of(user)
    return person is not None and person.is_approved_member


def can_view_group(user: Viewer, group: WorkingGroup) -> bool:
    """Public groups: everyone. Members-only groups: consortium members, the group's own people, staff."""
    if group.is_public:
        return True
    return is_staff_admin(user) or is_consortium_member(user) or is_group_member(user, group)


def can_view_group_members(user: Viewer, group: WorkingGroup) -> bool:
    """Who is in a group is for members' eyes: consortium members, the group itself, staff."""
    return can_view_group(user, group) and (
        is_staff_admin(user) or is_consortium_member(user) or is_group_member(user, group)
    )


def can_manage_group(user: Viewer, group: WorkingGroup) -> bool:
    """Chairs and co-chairs of the group and staff admins change its members, meetings and settings."""
    return is_staff_admin(user) or is_chair(user, group)


def can_change_chairs(user: Viewer, group: WorkingGroup) -> bool:
    """Naming or removing a chair is for a chair (not a co-chair) or staff."""
    if is_staff_admin(user):
        return True
    membership = _membership(user, group)
    return membership is not None and membership.role == GroupMembership.Role.CHAIR


def can_schedule_round(user: Viewer, group: WorkingGroup) -> bool:
    """Chairs and co-chairs of the group and staff admins create, adjust and publish its rounds."""
    return can_manage_group(user, group)


def can_request_to_join(user: Viewer, group: WorkingGroup) -> bool:
    """Consortium members who are not yet in an active group may ask to join it."""
    return group.is_active and is_consortium_member(user) and not is_group_member(user, group)


def can_view_round(user: Viewer, round: Round) -> bool:
    """Published schedules are public; drafts are for the group's chairs and staff."""
    return round.published or can_schedule_round(user, round.group)


def can_register_for_rounds(user: Viewer, organisation: Organisation | None) -> bool:
    """Primary contacts and submitters of an organisation register it for rounds."""
    if organisation is None:
        return False
    return has_org_role(user, organisation, OrganisationRole.Role.PRIMARY_CONTACT) or has_org_role(
        user, organisation, OrganisationRole.Role.SUBMITTER
    )
