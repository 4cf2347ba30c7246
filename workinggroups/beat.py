"""Celery beat entries of the working groups app (plain data: settings merges it)."""

SCHEDULE: dict = {}
