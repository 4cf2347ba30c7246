"""What needs a person's attention: the dashboard's item type. Imports no app."""

from dataclasses import dataclass


@dataclass(frozen=True)
class AttentionItem:
    title: str
    detail: str = ""
    url: str = ""
    level: str = "info"  # info | warning
