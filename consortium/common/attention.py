"""What needs a person's attention: the dashboard's item type and the registry of its providers.

Each app registers a provider (a function from the asking user to items) from its
`AppConfig.ready()`; the site shell's dashboard asks the registry, so that no app imports the shell
and the shell keeps no list of apps. Imports no app."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AttentionItem:
    title: str
    detail: str = ""
    url: str = ""
    level: str = "info"  # info | warning


AttentionProvider = Callable[[Any], Iterable[AttentionItem]]

# (order, provider): the dashboard lists the items of lower orders first.
_PROVIDERS: list[tuple[int, AttentionProvider]] = []


def register_attention_provider(provider: AttentionProvider, *, order: int) -> None:
    """Adds `provider` to the dashboard, once however often `ready()` runs; `order` places its items."""
    if all(registered is not provider for _, registered in _PROVIDERS):
        _PROVIDERS.append((order, provider))
        _PROVIDERS.sort(key=lambda entry: entry[0])


def registered_attention_items(user: Any) -> list[AttentionItem]:
    """Every registered provider's items for `user`, in the providers' order."""
    items: list[AttentionItem] = []
    for _, provider in _PROVIDERS:
        items.extend(provider(user))
    return items
