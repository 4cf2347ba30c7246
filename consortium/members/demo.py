"""Demo organisations, tiers, memberships and people for `manage.py seed_demo`.

Organisations are public facts (from ../shared/demo when present, else the built-in list in
demo_data/). Tiers, dues, memberships and people are invented examples and labelled as such.
"""

import csv
import datetime as dt
from pathlib import Path

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from consortium.common.permissions import DATASET_ADMINS_GROUP
from consortium.members.models import (
    EmailDomain,
    Membership,
    MembershipTier,
    Organisation,
    OrganisationRole,
    Person,
)

DEMO_PASSWORD = "demo-password"
BUILTIN_ORGANISATIONS = Path(__file__).parent / "demo_data" / "organisations.csv"
KINDS = {
    "company": "company",
    "academic": "academic",
    "nonprofit": "non_profit",
    "non_profit": "non_profit",
    "individual": "individual",
}

TIERS = [
    # name, slug, may submit, votes, board seat, dues, rank
    ("Founding member", "founding", True, 1, True, 250_000, 40),
    ("General member", "general", True, 1, False, 75_000, 30),
    ("Academic member", "academic", True, 1, False, 0, 20),
    ("Affiliate", "affiliate", False, 0, False, 10_000, 10),
]


# email, full name, organisation slug or None, roles, staff, superuser
DEMO_LOGINS = [
    ("admin@example.org", "Ada Admin", None, [], True, True),
    ("licensing@example.org", "Lin Licensing", None, [], True, False),
    ("chair@example.org", "Chris Chair", "google", [], False, False),
    (
        "primary@example.org",
        "Priya Primary",
        "nvidia",
        [OrganisationRole.Role.PRIMARY_CONTACT, OrganisationRole.Role.SIGNATORY],
        False,
        False,
    ),
    ("submitter@example.org", "Sam Submitter", "nvidia", [OrganisationRole.Role.SUBMITTER], False, False),
    ("member@example.org", "Mel Member", "lenovo", [], False, False),
]


def organisation_rows() -> list[dict[str, str]]:
    shared = settings.SHARED_DIR / "demo" / "organisations.csv"
    source = shared if shared.is_file() else BUILTIN_ORGANISATIONS
    with source.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _membership_for(index: int, founding: bool, kind: str, today: dt.date) -> tuple[str, dt.date, dt.date | None, str]:
    """Deterministic variety so the directory shows every status."""
    tier = "founding" if founding else ("academic" if kind == "academic" else ("general" if index % 5 else "affiliate"))
    start = dt.date(2020, 12, 3) if founding else dt.date(2021 + index % 4, 1 + index % 12, 1)
    end: dt.date | None = dt.date(today.year + 1, 12, 31)
    override = ""
    if index % 17 == 16:
        end = today - dt.timedelta(days=10)  # in its grace period
    elif index % 19 == 18:
        end = today - dt.timedelta(days=200)  # lapsed
    elif index % 23 == 22:
        override = Membership.Override.SUSPENDED
    return tier, start, end, override


@transaction.atomic
def seed_members(*, today: dt.date, log=print) -> None:
    tiers = {}
    for name, slug, submit, votes, board, dues, rank in TIERS:
        tiers[slug], _ = MembershipTier.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name,
                "may_submit_results": submit,
                "votes": votes,
                "board_seat": board,
                "annual_dues_usd": dues,
                "rank": rank,
                "is_example": True,
                "description": "Example tier invented for the demo; real tiers and dues are not public.",
            },
        )
    rows = organisation_rows()
    for index, row in enumerate(rows):
        kind = KINDS.get(row["kind"].strip().lower(), "company")
        founding = row.get("founding", "").strip().lower() == "yes"
        org, _ = Organisation.objects.update_or_create(
            slug=row["slug"],
            defaults={
                "name": row["name"],
                "kind": kind,
                "country": row.get("country", "")[:2],
                "founding_member": founding,
                "results_folder": row.get("results_folder", ""),
            },
        )
        EmailDomain.objects.get_or_create(domain=f"{org.slug}.example", defaults={"organisation": org})
        if not org.memberships.exists():
            tier, start, end, override = _membership_for(index, founding, kind, today)
            Membership.objects.create(
                organisation=org,
                tier=tiers[tier],
                start=start,
                end=end,
                staff_override=override,
                note="Example membership invented for the demo.",
            )
    # The demo people's organisations must allow submitting.
    for slug in ("nvidia", "lenovo", "google"):
        Membership.objects.filter(organisation__slug=slug).update(
            staff_override="", end=dt.date(today.year + 1, 12, 31)
        )
    log(f"  {len(rows)} organisations, {len(tiers)} example tiers")
    seed_demo_logins(log=log)


def seed_demo_logins(*, log=print) -> None:
    User = get_user_model()
    dataset_admins, _ = Group.objects.get_or_create(name=DATASET_ADMINS_GROUP)
    for email, name, org_slug, roles, staff, superuser in DEMO_LOGINS:
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            user = User.objects.create_user(email=email, password=DEMO_PASSWORD)
        user.is_staff, user.is_superuser = staff, superuser
        user.save(update_fields=["is_staff", "is_superuser"])
        EmailAddress.objects.update_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
        org = Organisation.objects.get(slug=org_slug) if org_slug else None
        person, _ = Person.objects.get_or_create(user=user)
        person.full_name, person.is_demo = name, True
        person.organisation = org
        person.affiliation = Person.Affiliation.APPROVED if org else Person.Affiliation.NONE
        person.save()
        for role in roles:
            OrganisationRole.objects.get_or_create(person=person, organisation=org, role=role)
        if email == "licensing@example.org":
            user.groups.add(dataset_admins)
    log(f"  demo logins: {', '.join(e for e, *_ in DEMO_LOGINS)} (password {DEMO_PASSWORD})")
