"""What needs a person's attention: the shell's own items (profile, two-factor authentication), then
those of every app, which each app registers from its AppConfig.ready() (consortium.common.attention)."""

from django.urls import reverse

from consortium.common.attention import AttentionItem, registered_attention_items
from consortium.members.models import User
from consortium.members.permissions import person_of
from consortium.portal.middleware import staff_must_enrol_mfa, user_has_mfa


def attention_items(user: User) -> list[AttentionItem]:
    items: list[AttentionItem] = []
    person = person_of(user)
    if person is None or not person.full_name:
        items.append(
            AttentionItem(
                "Complete your profile",
                "Add your name so colleagues can find you.",
                reverse("members:profile"),
            )
        )
    if staff_must_enrol_mfa(user):
        items.append(
            AttentionItem(
                "Turn on two-factor authentication",
                "Staff accounts need it before they can use the admin.",
                reverse("mfa_index"),
                "warning",
            )
        )
    elif user.is_staff and not user_has_mfa(user):
        items.append(
            AttentionItem(
                "Two-factor authentication is off",
                "Demo mode lets this demo account use the admin without it; real staff accounts must turn it on.",
                reverse("mfa_index"),
            )
        )
    items.extend(registered_attention_items(user))
    return items
