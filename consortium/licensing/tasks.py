"""Celery tasks of dataset licensing: thin, take ids, safe to run twice (notices are recorded under a
unique constraint and state changes are conditional updates)."""

from celery import shared_task

from consortium.licensing.services import agreement_version_notify_holders
from consortium.licensing.services import licensing_daily as run


@shared_task(name="licensing.daily", ignore_result=True, acks_late=True)
def licensing_daily(**_: object) -> dict:
    """Expire grants, apply membership status and grace periods, send reminders (each notice once)."""
    return run()


@shared_task(name="licensing.notify_new_agreement_version", ignore_result=True, acks_late=True)
def notify_new_agreement_version(*, version_id: int, **_: object) -> int:
    return agreement_version_notify_holders(version_id=version_id)
