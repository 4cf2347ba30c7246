"""What needs a person's attention, gathered from every app for the dashboard."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import ngettext

from consortium.licensing import selectors as licensing
from consortium.members import selectors as members
from consortium.members.models import Membership
from consortium.members.permissions import person_of, staff_must_enrol_mfa, user_has_mfa
from submissions import selectors as submissions
from submissions.review import selectors as review
from workinggroups import selectors as workinggroups


@dataclass(frozen=True)
class AttentionItem:
    title: str
    detail: str = ""
    url: str = ""
    level: str = "info"  # info | warning


def attention_items(user: Any) -> list[AttentionItem]:
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
    for invitation in members.pending_invitations_for(user):
        items.append(
            AttentionItem(
                f"Invitation to join {invitation.organisation}",
                f"Expires {invitation.expires_at:%d %b %Y}.",
                reverse("members:invitation_inbox"),
            )
        )
    if person is not None and person.affiliation == person.Affiliation.PENDING:
        items.append(
            AttentionItem(
                f"Waiting for {person.organisation} to approve you",
                "Its primary contact has been asked to confirm that you work there.",
            )
        )
    soon = timezone.localdate() + dt.timedelta(days=60)
    for organisation in members.organisations_managed_by(user):
        roster = reverse("members:roster", kwargs={"slug": organisation.slug})
        pending = members.organisation_pending_people(organisation).count()
        if pending:
            items.append(
                AttentionItem(
                    ngettext("%(n)d person asks to join %(org)s", "%(n)d people ask to join %(org)s", pending)
                    % {"n": pending, "org": organisation},
                    "Approve colleagues or decline strangers.",
                    roster,
                    "warning",
                )
            )
        membership = members.current_membership(organisation)
        if membership is None or membership.status in (Membership.Status.GRACE, Membership.Status.LAPSED):
            items.append(
                AttentionItem(
                    f"{organisation}'s membership needs renewal",
                    membership.status_label if membership else "No membership.",
                    reverse("members:organisation", kwargs={"slug": organisation.slug}),
                    "warning",
                )
            )
        elif membership.end and membership.end <= soon:
            items.append(
                AttentionItem(
                    f"{organisation}'s membership ends on {membership.end:%d %b %Y}",
                    "Talk to consortium staff about renewal.",
                )
            )
    items.extend(workinggroups.attention_items(user))
    items.extend(submissions.attention_items(user))
    items.extend(review.attention_items(user))
    items.extend(licensing.attention_items(user))
    return items
