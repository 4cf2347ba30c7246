"""Working group pages, chair management pages, rounds and calendar feeds. Thin views: validate,
call a service or selector, render or redirect."""

# Split by topic; the URLconf takes the views from here.
from workinggroups.views.calendars import (
    my_calendar,
    my_calendar_reset,
    personal_calendar,
)
from workinggroups.views.groups import (
    group_calendar,
    group_detail,
    group_join,
    group_leave,
    group_list,
    join_request_withdraw,
)
from workinggroups.views.meetings import (
    meeting_delete,
    meeting_edit,
    meetings,
    occurrence_edit,
)
from workinggroups.views.members import (
    group_edit,
    group_members,
    join_request_decide,
    join_requests,
    member_remove,
    member_role,
)
from workinggroups.views.round_management import (
    group_rounds,
    round_create,
    round_edit,
    round_generate,
    round_publish,
    round_schedule,
    round_unpublish,
)
from workinggroups.views.rounds import (
    round_calendar,
    round_detail,
    round_list,
    round_register,
    round_registration_withdraw,
)

__all__ = [
    "group_calendar",
    "group_detail",
    "group_edit",
    "group_join",
    "group_leave",
    "group_list",
    "group_members",
    "group_rounds",
    "join_request_decide",
    "join_request_withdraw",
    "join_requests",
    "meeting_delete",
    "meeting_edit",
    "meetings",
    "member_remove",
    "member_role",
    "my_calendar",
    "my_calendar_reset",
    "occurrence_edit",
    "personal_calendar",
    "round_calendar",
    "round_create",
    "round_detail",
    "round_edit",
    "round_generate",
    "round_list",
    "round_publish",
    "round_register",
    "round_registration_withdraw",
    "round_schedule",
    "round_unpublish",
]
