"""Celery beat entries of the licensing app (plain data: settings merges it)."""

SCHEDULE: dict = {}
