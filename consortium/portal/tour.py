"""The short guided tour on a person's dashboard: what to do first, per role (a person may hold
several). Each step links where it is done; steps the portal can see are done are marked so."""

from dataclasses import dataclass
from typing import Any

from django.urls import reverse

from consortium.licensing.permissions import is_dataset_admin
from consortium.members.permissions import is_primary_contact, is_staff_admin, is_submitter, person_of
from workinggroups.permissions import chaired_groups


@dataclass(frozen=True)
class TourStep:
    title: str
    detail: str
    url: str
    done: bool = False


@dataclass(frozen=True)
class Tour:
    role: str  # who the steps are for, e.g. "submitter at NVIDIA"
    steps: list[TourStep]


def tours_for(user: Any) -> list[Tour]:
    person = person_of(user)
    organisation = person.organisation if person is not None and person.is_approved_member else None
    tours: list[Tour] = []
    if is_staff_admin(user):
        tours.append(
            Tour(
                "staff",
                [
                    TourStep(
                        "Check the workers", "Pools, live workers and queued checks.", reverse("submissions:workers")
                    ),
                    TourStep(
                        "Look at disagreements",
                        "Versions where the engine and the official verifier differ.",
                        reverse("submissions:disagreements"),
                    ),
                    TourStep(
                        "Open the admin", "Organisations, tiers, people and the audit log.", reverse("admin:index")
                    ),
                ],
            )
        )
    if is_dataset_admin(user):
        tours.append(
            Tour(
                "dataset admin",
                [
                    TourStep(
                        "See the pending work",
                        "Requests to decide, grants ending, draft agreement versions.",
                        reverse("admin:licensing_dataset_dashboard"),
                    ),
                    TourStep(
                        "Decide an access request",
                        "Each request has its own page with Approve or Decline.",
                        reverse("admin:licensing_accessrequest_changelist") + "?state__exact=submitted",
                    ),
                    TourStep(
                        "Explain someone's access",
                        "The predicate's answer and everything it looked at.",
                        reverse("admin:licensing_explain"),
                    ),
                ],
            )
        )
    groups = list(chaired_groups(user)[:1])
    if groups:
        group = groups[0]
        tours.append(
            Tour(
                f"chair of {group}",
                [
                    TourStep(
                        "Decide join requests",
                        "Approve as member or observer, or decline with a reason.",
                        reverse("workinggroups:join_requests", kwargs={"slug": group.slug}),
                    ),
                    TourStep(
                        "Set up the meetings",
                        "A recurring series with agenda and minutes.",
                        reverse("workinggroups:meetings", kwargs={"slug": group.slug}),
                    ),
                    TourStep(
                        "Schedule a round",
                        "Generate the phases from a submission deadline and publish them.",
                        reverse("workinggroups:group_rounds", kwargs={"slug": group.slug}),
                    ),
                ],
            )
        )
    if organisation is not None and is_primary_contact(user, organisation):
        tours.append(
            Tour(
                f"primary contact of {organisation}",
                [
                    TourStep(
                        "Review the roster",
                        "Approve colleagues, invite others, grant the submitter role.",
                        reverse("members:roster", kwargs={"slug": organisation.slug}),
                    ),
                    TourStep(
                        "Register for a round",
                        "Open a round whose registration is open.",
                        reverse("workinggroups:round_list"),
                    ),
                ],
            )
        )
    if organisation is not None and is_submitter(user, organisation):
        tours.append(
            Tour(
                f"submitter at {organisation}",
                [
                    TourStep(
                        "Upload a package",
                        "To a round your organisation is registered for; the checks start at once.",
                        reverse("submissions:mine"),
                    ),
                    TourStep(
                        "Create an API token",
                        "For uploads from a script or CI.",
                        reverse("submissions:tokens"),
                        done=user.api_tokens.exists(),
                    ),
                ],
            )
        )
    if person is not None:
        tours.append(
            Tour(
                "member" if organisation is not None else "new account",
                [
                    TourStep(
                        "Complete your profile",
                        "Your name, so colleagues find you.",
                        reverse("members:profile"),
                        done=bool(person.full_name),
                    ),
                    TourStep(
                        "Join a working group",
                        "Ask to join; its chairs (or staff) decide.",
                        reverse("workinggroups:group_list"),
                        done=person.group_memberships.exists(),
                    ),
                    TourStep(
                        "Subscribe to your calendar",
                        "Meetings and round dates of your groups.",
                        reverse("workinggroups:my_calendar"),
                        done=hasattr(person, "calendar_feed"),
                    ),
                    TourStep(
                        "Find a dataset", "See what you may use and request access.", reverse("licensing:catalogue")
                    ),
                ],
            )
        )
    return tours
