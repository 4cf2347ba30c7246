"""Reads of working groups, meetings and rounds (issue 4)."""

from typing import Any


def attention_items(user: Any) -> list:
    """Dashboard items for this person (join requests to decide, phases starting…)."""
    return []
