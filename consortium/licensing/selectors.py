"""Reads of datasets, agreements and grants (issue 6)."""

from typing import Any


def attention_items(user: Any) -> list:
    """Dashboard items for this person (pending requests, agreements to re-accept…)."""
    return []
