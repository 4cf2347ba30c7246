"""Celery beat entries of the submissions app (plain data: settings merges it)."""

SCHEDULE: dict = {
    "submissions-reap-lost-checks": {"task": "submissions.runs_reap", "schedule": 30.0},
    "submissions-sweep-archives": {"task": "submissions.archives_sweep", "schedule": 3600.0},
    # Chairs hear of flagged versions after the deadline and its grace period (one digest each).
    "submissions-chair-digests": {"task": "submissions.chair_digests_send", "schedule": 300.0},
    # Publication at the round's publication moment (submissions/review/tasks.py); idempotent.
    "submissions-publish-due-rounds": {"task": "submissions.rounds_publish_due", "schedule": 60.0},
}
