"""Writes to working groups, join requests, meetings, rounds, registrations and reminders.

One transaction per action; permission checked here as well as in the views; every change that
matters is written to the audit log; mail goes out through `transaction.on_commit`.
"""

# Split by topic; callers import the public names from here.
from workinggroups.services.calendars import (
    calendar_feed_get_or_create,
    calendar_feed_reset,
)
from workinggroups.services.groups import (
    group_member_add,
    group_member_remove,
    group_member_set_role,
    group_update,
)
from workinggroups.services.join_requests import (
    DEFAULT_JOIN_COOLDOWN_DAYS,
    join_cooldown,
    join_request_approve,
    join_request_create,
    join_request_decline,
    join_request_withdraw,
)
from workinggroups.services.meetings import (
    SERIES_FIELDS,
    meeting_occurrence_update,
    meeting_series_create,
    meeting_series_delete,
    meeting_series_update,
)
from workinggroups.services.reminders import (
    PHASE_REMINDER_WINDOW,
    deadline_reminders_send,
    phase_reminders_send,
    reminder_key,
    reminder_send,
)
from workinggroups.services.rounds import (
    ROUND_FIELDS,
    round_create,
    round_phases_adjust,
    round_publish,
    round_register,
    round_registration_withdraw,
    round_schedule_generate,
    round_unpublish,
    round_update,
)

__all__ = [
    "DEFAULT_JOIN_COOLDOWN_DAYS",
    "PHASE_REMINDER_WINDOW",
    "ROUND_FIELDS",
    "SERIES_FIELDS",
    "calendar_feed_get_or_create",
    "calendar_feed_reset",
    "deadline_reminders_send",
    "group_member_add",
    "group_member_remove",
    "group_member_set_role",
    "group_update",
    "join_cooldown",
    "join_request_approve",
    "join_request_create",
    "join_request_decline",
    "join_request_withdraw",
    "meeting_occurrence_update",
    "meeting_series_create",
    "meeting_series_delete",
    "meeting_series_update",
    "phase_reminders_send",
    "reminder_key",
    "reminder_send",
    "round_create",
    "round_phases_adjust",
    "round_publish",
    "round_register",
    "round_registration_withdraw",
    "round_schedule_generate",
    "round_unpublish",
    "round_update",
]
