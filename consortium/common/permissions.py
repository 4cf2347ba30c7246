"""Permission helpers every app may use: the staff groups the portal knows by name. Imports no app."""

from typing import Any

# Staff accounts in this group run dataset licensing (consortium/licensing/permissions.py); the
# licensing app grants the group its model permissions after migrate, the demo seeds one member.
DATASET_ADMINS_GROUP = "Dataset admins"


def is_active_staff_in_group(user: Any, group_name: str) -> bool:
    """Whether `user` is an active staff account in the Django group `group_name`."""
    if not (getattr(user, "is_authenticated", False) and user.is_active and user.is_staff):
        return False
    return bool(user.groups.filter(name=group_name).exists())
