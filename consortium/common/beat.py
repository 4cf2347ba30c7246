"""Celery beat entries of the outbox (plain data: settings merges it)."""

SCHEDULE: dict = {
    "common-outbox-flush": {
        "task": "common.outbox_flush",
        "schedule": 30.0,
        # A tick that waited longer than this is superseded by the next one.
        "options": {"expires": 25},
    },
}
