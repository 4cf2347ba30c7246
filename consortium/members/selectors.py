"""Reads of organisations and people, already limited to what the asker may see."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import ngettext

from consortium.common.attention import AttentionItem
from consortium.members.countries import country_name
from consortium.members.models import Invitation, Membership, Organisation, OrganisationRole, Person, User
from consortium.members.permissions import Viewer, person_of, signed_in


def current_membership(organisation: Organisation, day: dt.date | None = None) -> Membership | None:
    """The term in force on `day`: the latest that has started, else the next upcoming one.

    Works on prefetched `memberships` (ordered newest first) without further queries.
    """
    day = day or timezone.localdate()
    terms = list(organisation.memberships.all())
    started = [m for m in terms if m.start <= day]
    if started:
        return max(started, key=lambda m: m.start)
    return min(terms, key=lambda m: m.start) if terms else None


@dataclass(frozen=True)
class DirectoryRow:
    organisation: Organisation
    membership: Membership | None

    @property
    def status(self) -> str:
        return self.membership.status if self.membership else "none"

    @property
    def status_label(self) -> str:
        return self.membership.status_label if self.membership else "No membership"


def _with_memberships(qs: QuerySet[Organisation]) -> QuerySet[Organisation]:
    return qs.prefetch_related(
        Prefetch("memberships", queryset=Membership.objects.select_related("tier").order_by("-start")),
        "email_domains",
    )


def organisation_directory(
    *, q: str = "", kind: str = "", tier: str = "", country: str = "", status: str = ""
) -> list[DirectoryRow]:
    """The member directory, filtered. Status is derived from dates, so it is filtered after the query
    (a consortium has at most a few hundred organisations)."""
    qs = Organisation.objects.all()
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(slug__icontains=q) | Q(email_domains__domain__icontains=q))
    if kind:
        qs = qs.filter(kind=kind)
    if country:
        qs = qs.filter(country__iexact=country)
    rows = [DirectoryRow(org, current_membership(org)) for org in _with_memberships(qs.distinct())]
    if tier:
        rows = [r for r in rows if r.membership and r.membership.tier.slug == tier]
    if status:
        rows = [r for r in rows if r.status == status]
    return sorted(rows, key=lambda r: r.organisation.name.casefold())


def directory_countries() -> list[tuple[str, str]]:
    """(code, name) of the countries of the directory, by name."""
    codes = Organisation.objects.exclude(country="").values_list("country", flat=True).distinct()
    return sorted(((code, country_name(code)) for code in codes), key=lambda c: c[1].casefold())


def organisation_detail(slug: str) -> Organisation:
    return _with_memberships(Organisation.objects.all()).get(slug=slug)


def organisation_contacts(organisation: Organisation) -> QuerySet[OrganisationRole]:
    return (
        OrganisationRole.objects.filter(
            organisation=organisation,
            role__in=[OrganisationRole.Role.PRIMARY_CONTACT, OrganisationRole.Role.SECONDARY_CONTACT],
        )
        .select_related("person__user")
        .order_by("role", "person__full_name")
    )


def organisation_people(organisation: Organisation) -> QuerySet[Person]:
    roles = OrganisationRole.objects.filter(organisation=organisation).order_by("role")
    return (
        Person.objects.filter(organisation=organisation, affiliation=Person.Affiliation.APPROVED)
        .select_related("user")
        .prefetch_related(Prefetch("roles", queryset=roles))
        .order_by("full_name", "user__email")
    )


def organisation_pending_people(organisation: Organisation) -> QuerySet[Person]:
    return Person.objects.filter(organisation=organisation, affiliation=Person.Affiliation.PENDING).select_related(
        "user"
    )


def organisation_invitations(organisation: Organisation) -> QuerySet[Invitation]:
    return organisation.invitations.select_related("invited_by").order_by("-created_at")


def pending_invitations_for(user: User) -> QuerySet[Invitation]:
    return Invitation.objects.filter(
        email__iexact=user.email, accepted_at=None, revoked_at=None, expires_at__gt=timezone.now()
    ).select_related("organisation")


def organisations_managed_by(user: Viewer) -> QuerySet[Organisation]:
    if not signed_in(user):
        return Organisation.objects.none()
    return Organisation.objects.filter(
        roles__person__user=user,
        roles__role=OrganisationRole.Role.PRIMARY_CONTACT,
        people__user=user,
        people__affiliation=Person.Affiliation.APPROVED,
    ).distinct()


def attention_items(user: Viewer) -> list[AttentionItem]:
    """Dashboard items: invitations, an affiliation waiting for approval, and for primary contacts the
    people asking to join and memberships that end or need renewal."""
    if not signed_in(user):
        return []
    items: list[AttentionItem] = []
    person = person_of(user)
    for invitation in pending_invitations_for(user):
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
    for organisation in organisations_managed_by(user):
        roster = reverse("members:roster", kwargs={"slug": organisation.slug})
        pending = organisation_pending_people(organisation).count()
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
        membership = current_membership(organisation)
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
    return items
