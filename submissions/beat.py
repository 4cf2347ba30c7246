"""Celery beat entries of the submissions app (plain data: settings merges it)."""

SCHEDULE: dict = {}
