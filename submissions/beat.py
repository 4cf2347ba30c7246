"""Celery beat entries of the submissions app (plain data: settings merges it)."""

SCHEDULE: dict = {
    "submissions-reap-lost-checks": {"task": "submissions.runs_reap", "schedule": 30.0},
    # Publication at the round's publication moment (submissions/review/tasks.py); idempotent.
    "submissions-publish-due-rounds": {"task": "submissions.rounds_publish_due", "schedule": 60.0},
}
