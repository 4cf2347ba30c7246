"""Rounds open for submission, registered organisations and package archives for submission tests."""

import datetime as dt
import io
import tarfile
from pathlib import Path

from django.utils import timezone

from consortium.members.models import Organisation, OrganisationRole
from tests.factories import member_of
from workinggroups.models import GroupMembership, Round, RoundPhase, RoundRegistration, WorkingGroup


def training_group(slug: str = "training") -> WorkingGroup:
    return WorkingGroup.objects.get_or_create(
        slug=slug, defaults={"name": slug.title(), "area": "benchmarks", "purpose": "MLPerf Training"}
    )[0]


def open_round(
    *, group: WorkingGroup | None = None, slug: str = "training-v5-1", ruleset: str = "5.1.0", suite: str = "training",
    deadline_in: dt.timedelta = dt.timedelta(days=7), publication_in: dt.timedelta = dt.timedelta(days=35),
) -> Round:  # fmt: skip
    """A published round whose submission window is open now (deadline `deadline_in` from now)."""
    now = timezone.now()
    round = Round.objects.create(
        group=group or training_group(), name=slug.replace("-", " ").title(), slug=slug, suite=suite,
        ruleset=ruleset if suite in ("training", "hpc") else "", divisions=["closed", "open"], published=True,
    )  # fmt: skip
    deadline = now + deadline_in
    RoundPhase.objects.create(round=round, kind="registration", starts_at=deadline - dt.timedelta(days=120),
                              ends_at=min(deadline, now) - dt.timedelta(days=1))  # fmt: skip
    window_start = min(now, deadline) - dt.timedelta(days=30)
    RoundPhase.objects.create(round=round, kind="submission", starts_at=window_start, ends_at=deadline)
    RoundPhase.objects.create(round=round, kind="publication", starts_at=now + publication_in,
                              ends_at=now + publication_in)  # fmt: skip
    return round


def register(round: Round, organisation: Organisation) -> RoundRegistration:
    return RoundRegistration.objects.get_or_create(round=round, organisation=organisation)[0]


def make_chair(group: WorkingGroup, person) -> None:
    GroupMembership.objects.get_or_create(group=group, person=person, defaults={"role": GroupMembership.Role.CHAIR})


def submitter_of(organisation: Organisation, email: str):
    return member_of(organisation, OrganisationRole.Role.SUBMITTER, email=email).user


def tar_gz_of(folder: Path, arcname: str | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        tf.add(folder, arcname=arcname or folder.name)
    return buf.getvalue()
