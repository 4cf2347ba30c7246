"""Demo working groups, chairs, meetings, rounds and registrations (issue 4), for `seed_demo`.

Groups and rounds are public facts (from ../shared/demo when present, else the built-in copy in
demo_data/). Charters, meeting times, memberships and registrations are invented and labelled as
examples. Rows of rounds.csv marked "planned example" get dates relative to `today`, so the demo
always has an upcoming round whose submission window is open and a round in review. Idempotent:
running it again updates in place (and moves the example rounds to the new `today`).
"""

import csv
import datetime as dt
import re
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.text import slugify

from consortium.members.models import Organisation, Person
from submissions import compliance
from workinggroups import schedules
from workinggroups.models import (
    GroupMembership,
    JoinRequest,
    MeetingOccurrence,
    MeetingSeries,
    Round,
    RoundPhase,
    RoundRegistration,
    WorkingGroup,
)

BUILTIN_DIR = Path(__file__).parent / "demo_data"
AREAS = {a.value: a.value for a in WorkingGroup.Area} | {"best_practices": "best-practices"}
SUITES = {"training": "training", "hpc": "hpc", "inference": "inference"}
MEMBERS_ONLY = {"medical"}  # an example of a members-only group page
MEETING_DAYS = ["TU", "WE", "TH", "MO", "FR"]
Role = GroupMembership.Role

# demo login, group slug, role (logins come from consortium.members.demo)
DEMO_MEMBERSHIPS = [
    ("chair@example.org", "training", Role.CHAIR),
    ("chair@example.org", "power", Role.MEMBER),
    ("submitter@example.org", "training", Role.MEMBER),
    ("submitter@example.org", "inference", Role.MEMBER),
    ("primary@example.org", "inference", Role.OBSERVER),
    ("member@example.org", "inference", Role.MEMBER),
    ("member@example.org", "datasets", Role.MEMBER),
]
APPLICANT = ("jo.example@lenovo.example", "Jo Example", "lenovo")


def _rows(name: str) -> list[dict[str, str]]:
    shared = settings.SHARED_DIR / "demo" / name
    source = shared if shared.is_file() else BUILTIN_DIR / name
    with source.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _charter(group: WorkingGroup) -> str:
    return (
        f"*Example charter invented for the demo.*\n\n"
        f"## Mission\n\n{group.purpose}.\n\n"
        "## Scope\n\n"
        "- Define and maintain the group's benchmarks, rules and reference implementations.\n"
        "- Review submissions and objections during each round.\n"
        "- Publish results and methodology openly.\n\n"
        "## Decisions\n\nBy consensus of the members present; chairs call a vote when consensus fails.\n"
    )


def _round_slug(name: str) -> str:
    return slugify(name.replace(".", "-"))


def _ruleset_named(suite: str, name: str) -> str:
    """The ruleset a round's name gives ("Inference v5.1": inference 5.1) when the engine has it, for
    rows that leave the ruleset empty (the shared rounds.csv predates the inference checker)."""
    found = re.search(r"v(\d+(?:\.\d+)+)\b", name)
    if not found or suite not in compliance.usages():
        return ""
    return found.group(1) if found.group(1) in compliance.available_rulesets(suite) else ""


def _in_review_deadline(today: dt.date) -> dt.date:
    """A Friday 8 to 14 days ago: on `today` the round is in objection review (week 2)."""
    day = today - dt.timedelta(days=8)
    return day - dt.timedelta(days=(day.weekday() - schedules.FRIDAY) % 7)


def _person(email: str) -> Person | None:
    return Person.objects.filter(user__email__iexact=email).select_related("organisation").first()


def seed_groups(log=print) -> dict[str, WorkingGroup]:
    groups = {}
    for row in _rows("working_groups.csv"):
        slug = row["slug"].strip()
        group, created = WorkingGroup.objects.update_or_create(
            slug=slug,
            defaults={
                "name": row["name"].strip(),
                "area": AREAS.get(row["area"].strip(), WorkingGroup.Area.RESEARCH),
                "purpose": row["purpose"].strip(),
                "mailing_list": f"{slug}@groups.example.org",
                "visibility": WorkingGroup.Visibility.MEMBERS
                if slug in MEMBERS_ONLY
                else WorkingGroup.Visibility.PUBLIC,
            },
        )
        if created or not group.charter:
            group.charter = _charter(group)
            group.save(update_fields=["charter"])
        groups[slug] = group
    log(f"  {len(groups)} working groups")
    return groups


def seed_people(groups: dict[str, WorkingGroup], log=print) -> None:
    for email, slug, role in DEMO_MEMBERSHIPS:
        person = _person(email)
        if person is None or slug not in groups:
            continue
        GroupMembership.objects.update_or_create(group=groups[slug], person=person, defaults={"role": role})
    # An invented applicant waiting for the Training chairs' decision.
    email, name, org_slug = APPLICANT
    organisation = Organisation.objects.filter(slug=org_slug).first()
    if organisation is not None and "training" in groups:
        User = get_user_model()
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            user = User.objects.create_user(email=email, password=None)  # no login: an example person
        person, _ = Person.objects.update_or_create(
            user=user,
            defaults={
                "full_name": name,
                "organisation": organisation,
                "affiliation": Person.Affiliation.APPROVED,
                "is_demo": True,
            },
        )
        training = groups["training"]
        if not GroupMembership.objects.filter(group=training, person=person).exists():
            JoinRequest.objects.get_or_create(
                group=training,
                person=person,
                state=JoinRequest.State.SUBMITTED,
                defaults={"message": "I work on training performance at Lenovo and would like to help (example)."},
            )
    log("  chairs and members: chair@example.org chairs Training; a join request waits for a decision")


def seed_meetings(groups: dict[str, WorkingGroup], today: dt.date, log=print) -> None:
    count = 0
    for index, group in enumerate(sorted(groups.values(), key=lambda g: g.slug)):
        if not group.is_active:
            continue
        series, _ = MeetingSeries.objects.update_or_create(
            group=group,
            title=f"{group.name} weekly call",
            defaults={
                "rrule": f"FREQ=WEEKLY;BYDAY={MEETING_DAYS[index % len(MEETING_DAYS)]}",
                "starts_on": today - dt.timedelta(days=56),
                "start_time": dt.time(8 + index % 3, 0),
                "time_zone": schedules.DEFAULT_TIME_ZONE,
                "duration_minutes": 60,
                "ends_on": today + dt.timedelta(days=365),
                "join_link": f"https://meet.example.org/{group.slug}",
            },
        )
        count += 1
        if group.slug == "training":
            _seed_training_occurrences(series, today)
    log(f"  {count} weekly meeting series (example times)")


def _seed_training_occurrences(series: MeetingSeries, today: dt.date) -> None:
    tz = schedules.zone(series.time_zone)
    noon = dt.datetime.combine(today, dt.time(12), tzinfo=tz)
    around = schedules.occurrences(
        series.rrule,
        starts_on=series.starts_on,
        start_time=series.start_time,
        time_zone=series.time_zone,
        ends_on=series.ends_on,
        after=noon - dt.timedelta(days=8),
        before=noon + dt.timedelta(days=22),
    )
    past = [m for m in around if m < noon]
    future = [m for m in around if m >= noon]
    if past:
        MeetingOccurrence.objects.update_or_create(
            series=series,
            original_start=past[-1].astimezone(dt.UTC),
            defaults={"minutes": "- Reviewed the open round's schedule (example minutes).\n- Next: reference checks."},
        )
    if future:
        MeetingOccurrence.objects.update_or_create(
            series=series,
            original_start=future[0].astimezone(dt.UTC),
            defaults={"agenda": "1. Round status\n2. Open objections\n3. Any other business (example agenda)"},
        )
    if len(future) > 2:
        MeetingOccurrence.objects.update_or_create(
            series=series, original_start=future[2].astimezone(dt.UTC), defaults={"cancelled": True}
        )


def _set_phases(round: Round, plan: list[schedules.PlannedPhase]) -> None:
    existing = {p.kind: p for p in round.phases.all()}
    for planned in plan:
        phase = existing.get(planned.kind)
        if phase is None:
            RoundPhase.objects.create(
                round=round, kind=planned.kind, starts_at=planned.starts_at, ends_at=planned.ends_at
            )
        elif (phase.starts_at, phase.ends_at) != (planned.starts_at, planned.ends_at):
            phase.starts_at, phase.ends_at = planned.starts_at, planned.ends_at
            phase.sequence += 1
            phase.save(update_fields=["starts_at", "ends_at", "sequence", "updated_at"])


def _plan(deadline: dt.date, publication: str, tz_name: str) -> list[schedules.PlannedPhase]:
    plan = schedules.mlperf_schedule(deadline, tz_name)
    if publication:
        moment = schedules.local(
            dt.date.fromisoformat(publication), schedules.PUBLICATION_TIME, schedules.zone(tz_name)
        )
        plan = [schedules.PlannedPhase(p.kind, moment, moment) if p.kind == schedules.PUBLICATION else p for p in plan]
    return plan


def seed_rounds(groups: dict[str, WorkingGroup], today: dt.date, log=print) -> list[Round]:
    rows = _rows("rounds.csv")
    noon = dt.datetime.combine(today, dt.time(12), tzinfo=schedules.zone(schedules.DEFAULT_TIME_ZONE))
    review_kinds = {schedules.OBJECTION_FILING, schedules.OBJECTION_REVIEW, schedules.REVISION}
    real_in_review = any(
        (
            phase := schedules.phase_at(
                _plan(dt.date.fromisoformat(r["submission_deadline"]), "", schedules.DEFAULT_TIME_ZONE), noon
            )
        )
        and phase.kind in review_kinds
        for r in rows
        if "planned" not in r.get("note", "") and r.get("submission_deadline")
    )
    examples_seen = 0
    rounds = []
    for row in rows:
        group = groups.get(row["working_group"].strip())
        if group is None or not row.get("submission_deadline"):
            continue
        suite = SUITES.get(row["suite"].strip(), Round.Suite.OTHER)
        ruleset = row.get("ruleset", "").strip() if suite in compliance.usages() else ""
        ruleset = ruleset or _ruleset_named(suite, row["name"])
        is_example = "planned" in row.get("note", "")
        deadline = dt.date.fromisoformat(row["submission_deadline"])
        publication = row.get("publication", "").strip()
        if is_example:
            publication = ""
            if examples_seen == 0 or real_in_review:
                deadline = schedules.next_friday(today, min_days=14)  # submission window open now
            else:
                deadline = _in_review_deadline(today)  # in objection review now
            examples_seen += 1
        benchmarks = (
            compliance.allowed_benchmarks(suite, ruleset) if ruleset in compliance.available_rulesets(suite) else []
        )
        note = row.get("note", "").strip()
        round, _ = Round.objects.update_or_create(
            slug=_round_slug(row["name"]),
            defaults={
                "group": group,
                "name": row["name"].strip(),
                "suite": suite,
                "ruleset": ruleset,
                "benchmarks": benchmarks,
                "divisions": [Round.Division.CLOSED, Round.Division.OPEN],
                "time_zone": schedules.DEFAULT_TIME_ZONE,
                "is_example": is_example,
                "published": True,
                "description": (
                    "Example round: its dates are set relative to today for the demo. " if is_example else ""
                )
                + (f"Note: {note}." if note else ""),
            },
        )
        _set_phases(round, _plan(deadline, publication, round.time_zone))
        rounds.append(round)
    practice = _seed_practice_round(groups, today)
    if practice is not None:
        rounds.append(practice)
    log(f"  {len(rounds)} rounds with generated phases ({examples_seen} example rounds dated around today)")
    return rounds


PRACTICE_ROUND = ("training-practice-v5-1", "Training practice round (v5.1 rules)", "5.1.0")


def _seed_practice_round(groups: dict[str, WorkingGroup], today: dt.date) -> Round | None:
    """An open round under ruleset 5.1.0, so that the shared MLPerf Training v5.1 packages can be
    uploaded and pass (under the open example round's 6.1.0 they rightly fail)."""
    group = groups.get("training")
    if group is None:
        return None
    slug, name, ruleset = PRACTICE_ROUND
    suite = Round.Suite.TRAINING
    shipped = ruleset in compliance.available_rulesets(suite)
    benchmarks = compliance.allowed_benchmarks(suite, ruleset) if shipped else []
    round, _ = Round.objects.update_or_create(
        slug=slug,
        defaults={
            "group": group,
            "name": name,
            "suite": suite,
            "ruleset": ruleset,
            "benchmarks": benchmarks,
            "divisions": [Round.Division.CLOSED, Round.Division.OPEN],
            "time_zone": schedules.DEFAULT_TIME_ZONE,
            "is_example": True,
            "published": True,
            "description": (
                "Practice round for trying the portal: its submission window is open and it checks against "
                "ruleset 5.1.0, so a real MLPerf Training v5.1 package passes. Its dates are set relative to "
                "today for the demo; it is not a real MLPerf round."
            ),
        },
    )
    _set_phases(round, _plan(schedules.next_friday(today, min_days=14), "", round.time_zone))
    return round


def seed_registrations(rounds: list[Round], log=print) -> None:
    submitter = _person("submitter@example.org")
    if submitter is None or submitter.organisation is None:
        return
    organisation = submitter.organisation
    count = 0
    for round in rounds:
        registration_phase = round.phases.filter(kind=schedules.REGISTRATION).first()
        registered_at = registration_phase.ends_at - dt.timedelta(days=7) if registration_phase else None
        registration, _ = RoundRegistration.objects.get_or_create(
            round=round, organisation=organisation, defaults={"registered_at": registered_at or round.created_at}
        )
        registration.contacts.add(submitter)
        count += 1
    log(f"  {organisation} registered for {count} rounds with contact {submitter.user.email}")


@transaction.atomic
def seed_workinggroups(*, today: dt.date, log=print) -> None:
    groups = seed_groups(log)
    seed_people(groups, log)
    seed_meetings(groups, today, log)
    rounds = seed_rounds(groups, today, log)
    seed_registrations(rounds, log)
