"""The dashboard's provider registry: each app registers once from ready(), in a fixed order."""

from consortium.common import attention
from consortium.common.attention import AttentionItem, register_attention_provider, registered_attention_items
from consortium.licensing import selectors as licensing_selectors
from consortium.members import selectors as member_selectors
from submissions import selectors as submission_selectors
from submissions.review import selectors as review_selectors
from workinggroups import selectors as group_selectors


def test_apps_register_their_providers_in_the_dashboard_order():
    # The order the dashboard listed them in when the shell called each app itself.
    assert [provider for _, provider in attention._PROVIDERS] == [
        member_selectors.attention_items,
        group_selectors.attention_items,
        submission_selectors.attention_items,
        review_selectors.attention_items,
        licensing_selectors.attention_items,
    ]


def test_registering_again_keeps_one_entry_and_lower_orders_come_first(monkeypatch):
    monkeypatch.setattr(attention, "_PROVIDERS", [])

    def late(user):
        return [AttentionItem("late")]

    def early(user):
        return [AttentionItem("early"), AttentionItem("early, second")]

    register_attention_provider(late, order=20)
    register_attention_provider(early, order=10)
    register_attention_provider(late, order=20)  # ready() may run more than once
    assert [item.title for item in registered_attention_items(None)] == ["early", "early, second", "late"]
