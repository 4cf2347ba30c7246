"""Periodic tasks of the working groups app (Celery beat). Thin: each calls a service that records
what it sent, so a second run (or a second beat) sends nothing new."""

from celery import shared_task

from workinggroups import services


@shared_task(ignore_result=True)
def send_deadline_reminders(**_ignored) -> int:
    """Registered organisations' contacts: 7 days and 1 day before each submission deadline."""
    return services.deadline_reminders_send()


@shared_task(ignore_result=True)
def send_phase_reminders(**_ignored) -> int:
    """Chairs: when a phase of one of their group's published rounds starts."""
    return services.phase_reminders_send()
