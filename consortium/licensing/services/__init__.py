"""Writes of dataset licensing: one transaction per action, every change in the audit log.

Errors a person can fix are ValidationErrors whose message is shown as is; nothing is changed
when one is raised. Mail goes out through transaction.on_commit, after the change is durable.
"""

# The package is split by topic; callers import the public names from here.
from consortium.licensing.services.access_requests import (
    access_request_approve,
    access_request_reject,
    access_request_resubmit,
    access_request_return,
    access_request_submit,
    access_request_withdraw,
)
from consortium.licensing.services.agreements import (
    agreement_accept,
    agreement_version_draft,
    agreement_version_publish,
    agreement_version_publish_new,
    agreement_version_update_draft,
    latest_published,
)
from consortium.licensing.services.grants import (
    SELF_SERVICE,
    grant_create,
    grant_extend,
    grant_reinstate,
    grant_revoke,
    grant_suspend,
    grant_take_up,
)
from consortium.licensing.services.licences import (
    licence_catalogue_sync,
    licence_create,
)
from consortium.licensing.services.scheduled import (
    agreement_version_notify_holders,
    grants_apply_grace_periods,
    grants_apply_membership,
    grants_expire,
    grants_send_expiry_reminders,
    grants_suspend_for_departure,
    licensing_daily,
)

__all__ = [
    "SELF_SERVICE",
    "access_request_approve",
    "access_request_reject",
    "access_request_resubmit",
    "access_request_return",
    "access_request_submit",
    "access_request_withdraw",
    "agreement_accept",
    "agreement_version_draft",
    "agreement_version_notify_holders",
    "agreement_version_publish",
    "agreement_version_publish_new",
    "agreement_version_update_draft",
    "grant_create",
    "grant_extend",
    "grant_reinstate",
    "grant_revoke",
    "grant_suspend",
    "grant_take_up",
    "grants_apply_grace_periods",
    "grants_apply_membership",
    "grants_expire",
    "grants_send_expiry_reminders",
    "grants_suspend_for_departure",
    "latest_published",
    "licence_catalogue_sync",
    "licence_create",
    "licensing_daily",
]
