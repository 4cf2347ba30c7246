"""Celery beat entries of the working groups app (plain data: settings merges it).

Every 10 minutes: reminders are due at a moment (7 days / 1 day before a deadline, a phase's
start), so they go out at most 10 minutes late; running more often costs a few queries.
"""

SCHEDULE: dict = {
    "workinggroups-deadline-reminders": {
        "task": "workinggroups.tasks.send_deadline_reminders",
        "schedule": 600.0,
        "options": {"expires": 540},
    },
    "workinggroups-phase-reminders": {
        "task": "workinggroups.tasks.send_phase_reminders",
        "schedule": 600.0,
        "options": {"expires": 540},
    },
}
