"""Scale data for `manage.py seed_scale`: realistic volume on top of the demo data (issue 15).

At scale 1: 60 organisations, 5,000 people with roles and group memberships, 40 rounds over ten
years across the suites, 20,000 submission versions with their check runs, attempts, findings and
scores, datasets with grants, and the audit events that go with them. Everything is invented and
labelled as scale data (``scale-`` slugs, ``*.scale.example`` addresses).

It builds on the demo: NVIDIA (the demo submitter's organisation) submits to every scale round and
is registered for it, some scale people join the demo organisations and working groups, and the
rounds belong to the demo's Training, Inference and HPC groups, so that every demo login's pages
see more rows. Idempotent: every row has a stable identity (slug, email, unique key); a second run
creates only what is missing, and a run at a larger scale adds the difference. Rows are written
with ``bulk_create`` in batches, in one transaction per step.

One module on purpose (a little over 600 lines): the steps build on each other in order and read
best top to bottom.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields

from django.contrib.auth.hashers import make_password
from django.db import models, transaction
from django.utils import timezone

from consortium.audit.models import AuditEvent
from consortium.licensing.models import Dataset, Grant
from consortium.members.models import (
    EmailDomain,
    Membership,
    MembershipTier,
    Organisation,
    OrganisationRole,
    Person,
    User,
)
from submissions import compliance
from submissions.models import (
    CheckAttempt,
    CheckKind,
    CheckRun,
    Finding,
    InferenceScore,
    Score,
    Submission,
    SubmissionVersion,
)
from workinggroups import schedules
from workinggroups.models import GroupMembership, JoinRequest, Round, RoundPhase, RoundRegistration, WorkingGroup

BATCH = 2000
FIFTEEN_SECONDS = dt.timedelta(seconds=15)
DEMO_ORG = "nvidia"  # the demo submitter's organisation: it submits to every scale round
SUITE_GROUPS = [("training", Round.Suite.TRAINING), ("inference", Round.Suite.INFERENCE), ("hpc", Round.Suite.HPC)]
GROUP_SLUGS = ["training", "inference", "hpc", "power", "datasets", "storage", "mobile", "tiny"]
RUN_KINDS = [
    CheckKind.UNPACK, CheckKind.SYSTEMS, CheckKind.RESULTS, CheckKind.PACKAGE, CheckKind.OFFICIAL, CheckKind.SCORES
]  # fmt: skip
FINDING_KINDS = [
    # check kind, severity, check id, key, message
    (CheckKind.RESULTS, Finding.Severity.ERROR, "log.required_key", "seed", "Required key seed was not found."),
    (CheckKind.RESULTS, Finding.Severity.ERROR, "log.value_range", "opt_base_learning_rate",
     "opt_base_learning_rate must be between 0.0 and 10.0."),
    (CheckKind.RESULTS, Finding.Severity.WARNING, "log.unknown_key", "extra_metric",
     "Key extra_metric is not in the rules."),
    (CheckKind.RESULTS, Finding.Severity.ADVISORY, "advisory.timestamps_backwards", None,
     "time_ms goes backwards at this line."),
    (CheckKind.PACKAGE, Finding.Severity.ERROR, "package.result_count", None, "Expected 10 result files, found 9."),
    (CheckKind.SYSTEMS, Finding.Severity.WARNING, "systems.missing_field", "host_memory_capacity",
     "System description lacks host_memory_capacity."),
]  # fmt: skip


@dataclass(frozen=True)
class ScaleCounts:
    organisations: int = 60
    people: int = 5000
    rounds: int = 40
    versions: int = 20000
    datasets: int = 20

    @classmethod
    def at(cls, scale: float, **overrides: int | None) -> ScaleCounts:
        """The counts at a scale factor (rounded up, at least 1), with explicit overrides."""
        full = cls()
        values = {f.name: max(1, math.ceil(getattr(full, f.name) * scale)) for f in fields(cls)}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


@contextlib.contextmanager
def _stated_times(*fields_: models.DateTimeField) -> Iterator[None]:
    """Let bulk_create keep the given times of auto_now_add fields (history over ten years)."""
    saved = [(f, f.auto_now_add) for f in fields_]
    for f, _ in saved:
        f.auto_now_add = False
    try:
        yield
    finally:
        for f, value in saved:
            f.auto_now_add = value


def _field(model: type[models.Model], name: str) -> models.DateTimeField:
    return model._meta.get_field(name)  # type: ignore[return-value]


def _bulk(model: type[models.Model], rows: list, *, ignore_conflicts: bool = False) -> list:
    out = []
    for start in range(0, len(rows), BATCH):
        out += model.objects.bulk_create(rows[start : start + BATCH], ignore_conflicts=ignore_conflicts)
    return out


def _bulk_audit(rows: list[AuditEvent]) -> None:
    """Audit events keep the moment of what they record (the log covers ten years)."""
    with _stated_times(_field(AuditEvent, "at")):
        _bulk(AuditEvent, rows)


def _sha(*parts: object) -> str:
    return hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()


class _Seeder:
    def __init__(self, counts: ScaleCounts, today: dt.date, log: Callable[[str], None]):
        self.counts = counts
        self.today = today
        self.now = timezone.now()
        self.log = log
        self.created: dict[str, int] = {}

    def add(self, what: str, n: int) -> None:
        self.created[what] = self.created.get(what, 0) + n

    def audit(self, *, action: str, target: models.Model, at: dt.datetime, organisation=None, data=None) -> AuditEvent:
        return AuditEvent(
            at=at,
            actor_label="system",
            action=action,
            target_type=target._meta.label_lower,
            target_id=str(target.pk),
            target_label=str(target)[:255],
            organisation=organisation,
            data={"scale_data": True, **(data or {})},
        )

    # ------------------------------------------------------------------ organisations and people

    @transaction.atomic
    def organisations(self) -> list[Organisation]:
        n = self.counts.organisations
        kinds = [Organisation.Kind.COMPANY] * 3 + [Organisation.Kind.ACADEMIC, Organisation.Kind.NON_PROFIT]
        countries = ["US", "DE", "JP", "GB", "FR", "CN", "KR", "IN", "CA", "IL", "NL", "SE"]
        wanted = [f"scale-org-{i:03d}" for i in range(1, n + 1)]
        existing = set(Organisation.objects.filter(slug__in=wanted).values_list("slug", flat=True))
        new = [
            Organisation(
                name=f"Scale Example {i:03d} (scale data)",
                slug=slug,
                kind=kinds[i % len(kinds)],
                country=countries[i % len(countries)],
                website=f"https://{slug}.scale.example",
                results_folder=f"ScaleExample{i:03d}",
            )
            for i, slug in enumerate(wanted, start=1)
            if slug not in existing
        ]
        _bulk(Organisation, new)
        orgs = list(Organisation.objects.filter(slug__in=wanted).order_by("slug"))
        fresh = [o for o in orgs if o.slug not in existing]
        tiers = list(MembershipTier.objects.filter(may_submit_results=True).order_by("slug"))
        _bulk(EmailDomain, [EmailDomain(organisation=o, domain=f"{o.slug}.scale.example") for o in fresh])
        _bulk(
            Membership,
            [
                Membership(organisation=o, tier=tiers[i % len(tiers)], start=self.today - dt.timedelta(days=3650))
                for i, o in enumerate(fresh)
            ],
        )
        _bulk_audit([self.audit(action="members.organisation_created", target=o, at=self.now) for o in fresh])
        self.add("organisations", len(fresh))
        return orgs

    @transaction.atomic
    def people(self, orgs: list[Organisation]) -> list[Person]:
        n = self.counts.people
        demo_orgs = list(Organisation.objects.exclude(slug__startswith="scale-org-").order_by("slug"))
        nvidia = next((o for o in demo_orgs if o.slug == DEMO_ORG), None)
        # Nine in ten at scale organisations; one in ten at demo ones (a fifth of those at NVIDIA).
        homes = []
        for i in range(n):
            if i % 10 == 9 and demo_orgs:
                homes.append(nvidia if (i // 10) % 5 == 0 and nvidia else demo_orgs[(i // 10) % len(demo_orgs)])
            else:
                homes.append(orgs[i % len(orgs)])
        emails = [f"scale-person-{i:05d}@people.scale.example" for i in range(n)]
        existing = set(User.objects.filter(email__in=emails).values_list("email", flat=True))
        password = make_password(None)  # unusable: scale people cannot log in
        joined = [self.now - dt.timedelta(days=(i * 7) % 3650) for i in range(n)]
        _bulk(
            User,
            [
                User(email=e, password=password, date_joined=joined[i])
                for i, e in enumerate(emails)
                if e not in existing
            ],
        )
        users = {u.email: u for u in User.objects.filter(email__in=emails)}
        with_person = set(Person.objects.filter(user__email__in=emails).values_list("user__email", flat=True))
        first = ["Ada", "Ben", "Chen", "Dana", "Emil", "Fatima", "Goran", "Hana", "Ivan", "Jun", "Kofi", "Lena"]
        last = ["Abe", "Brandt", "Costa", "Dube", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito", "Jensen"]
        new_people = []
        for i, email in enumerate(emails):
            if email in with_person:
                continue
            pending = i % 97 == 5  # about one in a hundred waits for approval
            new_people.append(
                Person(
                    user=users[email],
                    full_name=f"{first[i % len(first)]} {last[(i // len(first)) % len(last)]} {i:05d}",
                    organisation=homes[i],
                    affiliation=Person.Affiliation.PENDING if pending else Person.Affiliation.APPROVED,
                    affiliated_since=None if pending else joined[i],
                )
            )
        _bulk(Person, new_people)
        people = list(Person.objects.filter(user__email__in=emails).select_related("user").order_by("user__email"))
        fresh_ids = {p.user_id for p in new_people}
        fresh = [p for p in people if p.user_id in fresh_ids]
        self.add("people", len(fresh))
        # Roles at the scale organisations: a primary contact and signatory, and submitters.
        by_org: dict[int, list[Person]] = {}
        for p in people:
            if p.affiliation == Person.Affiliation.APPROVED:
                by_org.setdefault(p.organisation_id, []).append(p)
        Role = OrganisationRole.Role
        roles = []
        scale_org_ids = {o.pk for o in orgs}
        for org_id, members in by_org.items():
            if org_id in scale_org_ids:
                plan = [(0, Role.PRIMARY_CONTACT), (0, Role.SIGNATORY), (1, Role.SECONDARY_CONTACT)]
                plan += [(k, Role.SUBMITTER) for k in range(1, 4)]
            else:
                plan = [(0, Role.SUBMITTER)]
            roles += [
                OrganisationRole(person=members[k], organisation_id=org_id, role=role)
                for k, role in plan
                if k < len(members)
            ]
        before = OrganisationRole.objects.count()
        _bulk(OrganisationRole, roles, ignore_conflicts=True)
        self.add("organisation roles", OrganisationRole.objects.count() - before)
        _bulk_audit(
            [
                self.audit(action="roster.person_approved", target=p, at=p.affiliated_since or self.now,
                           organisation=p.organisation)
                for p in fresh
                if p.affiliated_since
            ],
        )  # fmt: skip
        return people

    @transaction.atomic
    def group_memberships(self, people: list[Person]) -> None:
        groups = list(WorkingGroup.objects.filter(slug__in=GROUP_SLUGS).order_by("slug"))
        if not groups:
            return
        rows = []
        for i, p in enumerate(people):
            if p.affiliation != Person.Affiliation.APPROVED:
                continue
            for k in range(1 + i % 3):  # one to three groups each
                group = groups[(i + k * 3) % len(groups)]
                role = GroupMembership.Role.OBSERVER if i % 11 == 0 else GroupMembership.Role.MEMBER
                rows.append(GroupMembership(group=group, person=p, role=role, since=p.affiliated_since or self.now))
        before = GroupMembership.objects.count()
        _bulk(GroupMembership, rows, ignore_conflicts=True)
        added = GroupMembership.objects.count() - before
        self.add("group memberships", added)
        # A few people wait for the Training chairs' decision.
        training = next((g for g in groups if g.slug == "training"), None)
        if training is not None:
            members = set(GroupMembership.objects.filter(group=training).values_list("person_id", flat=True))
            waiting = set(JoinRequest.objects.filter(group=training).values_list("person_id", flat=True))
            candidates = [p for p in people if p.pk not in members and p.affiliation == Person.Affiliation.APPROVED]
            want = candidates[: max(1, len(people) // 100)]
            new = [
                JoinRequest(group=training, person=p, message="I would like to join (scale data).")
                for p in want
                if p.pk not in waiting
            ]
            _bulk(JoinRequest, new)
            self.add("join requests", len(new))

    # ------------------------------------------------------------------ rounds

    def _round_plan(self) -> list[dict]:
        n = self.counts.rounds
        first = self.today - dt.timedelta(days=3650)
        last = self.today - dt.timedelta(days=120)  # every scale round is published by today
        span = (last - first).days
        plans = []
        per_year: dict[tuple[str, int], int] = {}
        for i in range(n):
            group_slug, suite = SUITE_GROUPS[i % len(SUITE_GROUPS)]
            day = first + dt.timedelta(days=span * i // max(1, n - 1)) if n > 1 else first
            deadline = day - dt.timedelta(days=(day.weekday() - schedules.FRIDAY) % 7)
            key = (group_slug, deadline.year)
            per_year[key] = per_year.get(key, 0) + 1
            label = f"{deadline.year}.{per_year[key]}"
            shipped = compliance.available_rulesets(suite) if suite in compliance.usages() else []
            ruleset = shipped[min(len(shipped) - 1, i * len(shipped) // n)] if shipped else ""
            plans.append(
                {
                    "slug": f"scale-{group_slug}-{label.replace('.', '-')}",
                    "name": f"{suite.label.split(' (')[0]} {label} (scale data)",
                    "group_slug": group_slug,
                    "suite": suite,
                    "ruleset": ruleset,
                    "deadline": deadline,
                }
            )
        return plans

    @transaction.atomic
    def rounds(self) -> list[Round]:
        plans = self._round_plan()
        groups = {g.slug: g for g in WorkingGroup.objects.filter(slug__in=[p["group_slug"] for p in plans])}
        plans = [p for p in plans if p["group_slug"] in groups]
        existing = set(Round.objects.filter(slug__in=[p["slug"] for p in plans]).values_list("slug", flat=True))
        new = []
        for p in plans:
            if p["slug"] in existing:
                continue
            tz = schedules.DEFAULT_TIME_ZONE
            phases = schedules.mlperf_schedule(p["deadline"], tz)
            published_at = phases[-1].starts_at
            benchmarks = compliance.allowed_benchmarks(p["suite"], p["ruleset"]) if p["ruleset"] else ["resnet", "bert"]
            round = Round(
                group=groups[p["group_slug"]],
                name=p["name"],
                slug=p["slug"],
                suite=p["suite"],
                ruleset=p["ruleset"],
                benchmarks=benchmarks,
                divisions=[Round.Division.CLOSED, Round.Division.OPEN],
                time_zone=tz,
                published=True,
                published_at=published_at,
                description="Invented round for scale tests (`seed_scale`).",
                created_at=phases[0].starts_at - dt.timedelta(days=30),
            )
            round._phases = phases  # type: ignore[attr-defined]
            new.append(round)
        with _stated_times(_field(Round, "created_at")):
            _bulk(Round, new)
        saved = {r.slug: r for r in Round.objects.filter(slug__in=[r.slug for r in new])}
        _bulk(
            RoundPhase,
            [
                RoundPhase(round=saved[r.slug], kind=ph.kind, starts_at=ph.starts_at, ends_at=ph.ends_at)
                for r in new
                for ph in r._phases  # type: ignore[attr-defined]
            ],
        )
        _bulk_audit(
            [self.audit(action="workinggroups.round_created", target=saved[r.slug], at=r.created_at) for r in new],
        )
        self.add("rounds", len(new))
        return list(Round.objects.filter(slug__in=[p["slug"] for p in plans]).order_by("created_at"))

    # ------------------------------------------------------------------ submissions

    def _entrants(self, round_index: int, orgs: list[Organisation], nvidia: Organisation | None) -> list[tuple]:
        """(organisation, division) pairs that submit to a round: two in three scale organisations,
        some in both divisions, and NVIDIA always."""
        out = []
        for i, org in enumerate(orgs):
            if (i + round_index) % 3 == 2 and len(orgs) > 2:
                continue
            out.append((org, Submission.Division.CLOSED))
            if (i + round_index) % 2 == 0:
                out.append((org, Submission.Division.OPEN))
        if nvidia is not None:
            out.append((nvidia, Submission.Division.CLOSED))
        return out

    def submissions(self, rounds: list[Round], orgs: list[Organisation], people: list[Person]) -> None:
        nvidia = Organisation.objects.filter(slug=DEMO_ORG).first()
        plan = [(r, org, div) for ri, r in enumerate(rounds) for org, div in self._entrants(ri, orgs, nvidia)]
        if not plan:
            return
        total = self.counts.versions
        base, extra = divmod(total, len(plan))
        uploaders: dict[int, int] = {}
        for p in people:
            uploaders.setdefault(p.organisation_id, p.user_id)
        if nvidia is not None:
            submitter = (
                Person.objects.filter(organisation=nvidia, roles__role=OrganisationRole.Role.SUBMITTER)
                .order_by("pk")
                .first()
            )
            if submitter:
                uploaders[nvidia.pk] = submitter.user_id
        for round in rounds:
            wanted = [(k, org, div) for k, (r, org, div) in enumerate(plan) if r.pk == round.pk]
            self._round_submissions(round, wanted, base, extra, uploaders)

    @transaction.atomic
    def _round_submissions(self, round: Round, wanted: list[tuple], base: int, extra: int, uploaders: dict) -> None:
        phases = {p.kind: p for p in round.phases.all()}
        opens = phases[schedules.SUBMISSION].starts_at
        deadline = phases[schedules.SUBMISSION].ends_at
        orgs = {org.pk: org for _, org, _ in wanted}
        # Registrations (with the first uploader as contact) and their audit events.
        registered = set(RoundRegistration.objects.filter(round=round).values_list("organisation_id", flat=True))
        regs = [
            RoundRegistration(round=round, organisation=org, registered_at=opens - dt.timedelta(days=7))
            for org in orgs.values()
            if org.pk not in registered
        ]
        _bulk(RoundRegistration, regs)
        self.add("round registrations", len(regs))
        _bulk_audit(
            [self.audit(action="workinggroups.round_registered", target=r, at=r.registered_at,
                        organisation=r.organisation) for r in regs],
        )  # fmt: skip
        # Submissions.
        have = {
            (s.organisation_id, s.division): s for s in Submission.objects.filter(round=round, organisation__in=orgs)
        }
        new_subs = []
        for k, org, div in wanted:
            if (org.pk, div) not in have:
                category = Submission.Category.AVAILABLE if k % 4 else Submission.Category.PREVIEW
                new_subs.append(
                    Submission(round=round, organisation=org, division=div, category=category,
                               created_by_id=uploaders.get(org.pk), created_at=opens + dt.timedelta(hours=k % 500))
                )  # fmt: skip
        with _stated_times(_field(Submission, "created_at")):
            _bulk(Submission, new_subs)
        self.add("submissions", len(new_subs))
        have = {
            (s.organisation_id, s.division): s for s in Submission.objects.filter(round=round, organisation__in=orgs)
        }
        numbers: dict[int, set[int]] = {}
        for sub_id, number in SubmissionVersion.objects.filter(submission__round=round).values_list(
            "submission_id", "number"
        ):
            numbers.setdefault(sub_id, set()).add(number)
        # Versions: the total spread evenly over every planned submission.
        new_versions = []
        window = (deadline - opens).total_seconds()
        for k, org, div in wanted:
            sub = have[(org.pk, div)]
            count = base + (1 if k < extra else 0)
            rng = random.Random(f"{round.slug}/{org.slug}/{div}")
            for number in range(1, count + 1):
                verdict_roll = rng.random()
                if number in numbers.get(sub.pk, set()):
                    continue
                late = number == count and count > 2 and rng.random() < 0.05
                at = opens + dt.timedelta(seconds=window * number / (count + 1))
                if late:
                    at = deadline + dt.timedelta(hours=3)
                passed = (number == count and verdict_roll < 0.85) or verdict_roll < 0.4
                verdict = SubmissionVersion.Verdict.PASSED if passed else SubmissionVersion.Verdict.FAILED
                v = SubmissionVersion(
                    submission=sub,
                    number=number,
                    sha256=_sha(round.slug, org.slug, div, number),
                    size=1_000_000 + rng.randrange(50_000_000),
                    original_name=f"{org.results_folder or org.slug}-v{number}.tar.gz",
                    uploaded_by_id=uploaders.get(org.pk),
                    uploaded_at=at,
                    source=SubmissionVersion.Source.API if number % 2 else SubmissionVersion.Source.WEB,
                    in_time=not late,
                    state=SubmissionVersion.State.UNPACKED,
                    verdict=verdict,
                    engine_verdict=verdict,
                    official_verdict=verdict,
                    checks_finished_at=at + dt.timedelta(minutes=3),
                )
                v._rng = rng  # type: ignore[attr-defined]
                new_versions.append(v)
        _bulk(SubmissionVersion, new_versions)
        self.add("submission versions", len(new_versions))
        if not new_versions:
            return
        saved = {
            (v.submission_id, v.number): v.pk
            for v in SubmissionVersion.objects.filter(submission__round=round).only("pk", "submission_id", "number")
        }
        for v in new_versions:
            v.pk = saved[(v.submission_id, v.number)]
        self._checks(round, new_versions)
        org_of = {s.pk: orgs[org_id] for (org_id, _div), s in have.items()}
        _bulk_audit(
            [
                self.audit(action="submissions.version_uploaded", target=v, at=v.uploaded_at,
                           organisation=org_of[v.submission_id],
                           data={"number": v.number, "sha256": v.sha256})
                for v in new_versions
            ],
        )  # fmt: skip

    def _checks(self, round: Round, versions: list[SubmissionVersion]) -> None:
        runs = []
        for v in versions:
            failed = v.verdict == SubmissionVersion.Verdict.FAILED
            for i, kind in enumerate(RUN_KINDS):
                state = CheckRun.State.FAILED if failed and kind == CheckKind.RESULTS else CheckRun.State.PASSED
                started = v.uploaded_at + dt.timedelta(seconds=5 + 20 * i)
                runs.append(
                    CheckRun(version_id=v.pk, kind=kind, state=state, progress_done=10, progress_total=10,
                             queued_at=v.uploaded_at, started_at=started, finished_at=started + FIFTEEN_SECONDS,
                             heartbeat_at=started + FIFTEEN_SECONDS, worker="celery@scale-worker")
                )  # fmt: skip
        _bulk(CheckRun, runs)
        self.add("check runs", len(runs))
        saved = {
            (r.version_id, r.kind): r.pk
            for r in CheckRun.objects.filter(version_id__in=[v.pk for v in versions]).only("pk", "version_id", "kind")
        }
        for r in runs:
            r.pk = saved[(r.version_id, r.kind)]
        _bulk(
            CheckAttempt,
            [
                CheckAttempt(run_id=r.pk, number=1, worker=r.worker, started_at=r.started_at,
                             finished_at=r.finished_at, outcome=r.state)
                for r in runs
            ],
        )  # fmt: skip
        self.add("check attempts", len(runs))
        findings, scores, inference_scores = [], [], []
        benchmarks = list(round.benchmarks or ["resnet"])
        for v in versions:
            rng = v._rng  # type: ignore[attr-defined]
            failed = v.verdict == SubmissionVersion.Verdict.FAILED
            chosen = [FINDING_KINDS[k] for k in range(len(FINDING_KINDS)) if rng.random() < 0.25]
            if failed and not any(f[0] == CheckKind.RESULTS and f[1] == Finding.Severity.ERROR for f in chosen):
                chosen.append(FINDING_KINDS[0])
            if not failed:
                chosen = [f for f in chosen if f[1] != Finding.Severity.ERROR]
            for kind, severity, check_id, key, message in chosen:
                bench = benchmarks[rng.randrange(len(benchmarks))]
                path = "" if kind == CheckKind.PACKAGE else (
                    "systems/scale_system.json" if kind == CheckKind.SYSTEMS else
                    f"results/scale_system/{bench}/result_{rng.randrange(10)}.txt")  # fmt: skip
                findings.append(
                    Finding(run_id=saved[(v.pk, kind)], severity=severity, check_id=check_id, key=key, path=path,
                            line=rng.randrange(1, 4000) if path.startswith("results/") else None, message=message)
                )  # fmt: skip
            if not failed and round.suite == Round.Suite.INFERENCE:  # the inference checker's scores
                for bench in benchmarks[: 1 + rng.randrange(min(3, len(benchmarks)))]:
                    inference_scores.append(
                        InferenceScore(version_id=v.pk, system="scale_system", model=bench, mlperf_model=bench,
                                       scenario="Offline", division=v.submission.division,
                                       value=round_to(rng.uniform(10, 50_000)), units="Samples/s")
                    )  # fmt: skip
            elif not failed:
                for bench in benchmarks[: 1 + rng.randrange(min(3, len(benchmarks)))]:
                    scores.append(
                        Score(version_id=v.pk, system="scale_system", benchmark=bench,
                              minutes=round_to(rng.uniform(2, 300)))
                    )  # fmt: skip
        _bulk(Finding, findings)
        _bulk(Score, scores)
        _bulk(InferenceScore, inference_scores)
        self.add("findings", len(findings))
        self.add("scores", len(scores) + len(inference_scores))

    # ------------------------------------------------------------------ datasets

    @transaction.atomic
    def datasets(self, orgs: list[Organisation], people: list[Person]) -> None:
        template = Dataset.objects.filter(agreement__isnull=True, requires_approval=False).order_by("pk").first()
        if template is None:
            self.log("  no open demo dataset to copy a licence from: no scale datasets")
            return
        n = self.counts.datasets
        wanted = [f"scale-dataset-{i:03d}" for i in range(1, n + 1)]
        existing = set(Dataset.objects.filter(slug__in=wanted).values_list("slug", flat=True))
        new = [
            Dataset(
                name=f"Scale dataset {i:03d} (scale data)",
                slug=slug,
                summary="An invented dataset for scale tests.",
                licence=template.licence,
                requires_membership=i % 2 == 0,
                maintainer_working_group="datasets",
            )
            for i, slug in enumerate(wanted, start=1)
            if slug not in existing
        ]
        _bulk(Dataset, new)
        self.add("datasets", len(new))
        datasets = list(Dataset.objects.filter(slug__in=wanted).order_by("slug"))
        fresh = {d.pk for d in datasets if d.slug not in existing}
        grants = []
        approved = [p for p in people if p.affiliation == Person.Affiliation.APPROVED]
        for di, d in enumerate(datasets):
            if d.pk not in fresh:
                continue
            for p in approved[di :: max(1, len(datasets))][:50]:
                grants.append(Grant(dataset=d, person=p, starts_at=self.now - dt.timedelta(days=30)))
            if di % 2 == 0:  # organisation-wide grants for NVIDIA (the demo submitter's) on every other one
                nvidia = Organisation.objects.filter(slug=DEMO_ORG).first()
                if nvidia is not None:
                    grants.append(Grant(dataset=d, organisation=nvidia, starts_at=self.now - dt.timedelta(days=30)))
        _bulk(Grant, grants)
        self.add("grants", len(grants))

    def run(self) -> dict[str, int]:
        orgs = self.organisations()
        self.log(f"  organisations: {len(orgs)} scale organisations")
        people = self.people(orgs)
        self.log(f"  people: {len(people)} scale people")
        self.group_memberships(people)
        rounds = self.rounds()
        self.log(f"  rounds: {len(rounds)} scale rounds")
        self.submissions(rounds, orgs, people)
        self.datasets(orgs, people)
        return self.created


def round_to(value: float) -> float:
    return round(value, 2)


def seed_scale(*, counts: ScaleCounts, today: dt.date | None = None, log: Callable[[str], None] = print) -> dict:
    """Add the scale data (idempotent); returns how many rows of each kind this run created."""
    return _Seeder(counts, today or timezone.localdate(), log).run()
