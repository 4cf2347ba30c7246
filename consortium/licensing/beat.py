"""Celery beat entries of the licensing app (plain data: settings merges it)."""

from celery.schedules import crontab

SCHEDULE: dict = {
    "licensing-daily": {
        "task": "licensing.daily",
        # 02:15 UTC: after midnight everywhere the consortium works, before Europe's morning.
        "schedule": crontab(hour=2, minute=15),
        "options": {"expires": 6 * 3600},
    },
}
