"""Demo data of the review (`manage.py seed_demo`, idempotent).

- "Training review example": an example round whose clock stands in objection filing today, with
  the real MLPerf Training v5.1 packages of NVIDIA, AMD, Dell, Lenovo and Cisco (from ../shared/mlperf,
  checked by the worker like any upload; unpacked here so that objections can point at their lines),
  objections in several states, an open vote, a withdrawal and required reviews.
- Training v5.1 itself (real packages, seeded by submissions/demo.py) is published by beat at its
  (past) publication moment as soon as its checks have finished: `make run` shows its result IDs
  within a few minutes.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from consortium.members.demo import DEMO_PASSWORD
from consortium.members.models import Organisation, OrganisationRole, Person
from submissions import services as submission_services
from submissions.demo import _tar_gz, shared_results_dir
from submissions.models import CheckKind, Submission
from submissions.review import services
from submissions.review.models import Objection, ReviewAssignment, Vote, Withdrawal
from workinggroups import schedules
from workinggroups.models import Round, RoundPhase, WorkingGroup

REVIEW_ROUND = "training-review-example"
# Organisation slug, package folder, demo login of its submitter (NVIDIA's is submitter@example.org).
ORGANISATIONS = [
    ("nvidia", "NVIDIA", "submitter@example.org"),
    ("amd", "AMD", "submitter@amd.example.org"),
    ("dell", "Dell", "submitter@dell.example.org"),
    ("lenovo", "Lenovo", "submitter@lenovo.example.org"),
    ("cisco", "Cisco", "submitter@cisco.example.org"),
]


def _filing_deadline(now: dt.datetime, tz_name: str) -> dt.date:
    """The Friday whose MLPerf calendar puts `now` in objection filing."""
    today = now.astimezone(schedules.zone(tz_name)).date()
    for weeks_back in range(3):
        day = today - dt.timedelta(days=(today.weekday() - schedules.FRIDAY) % 7 + 7 * weeks_back)
        phase = schedules.phase_at(schedules.mlperf_schedule(day, tz_name), now)
        if phase is not None and phase.kind == schedules.OBJECTION_FILING:
            return day
    return today - dt.timedelta(days=(today.weekday() - schedules.FRIDAY) % 7 or 7)


def _round(group: WorkingGroup, now: dt.datetime) -> Round:
    round, _ = Round.objects.update_or_create(
        slug=REVIEW_ROUND,
        defaults={
            "group": group,
            "name": "Training review example",
            "suite": Round.Suite.TRAINING,
            "ruleset": "5.1.0",
            "divisions": [Round.Division.CLOSED, Round.Division.OPEN],
            "published": True,
            "is_example": True,
            "description": "Example round for the review: dates relative to today; the packages are the real "
            "MLPerf Training v5.1 ones; the objections, votes and the withdrawal are invented.",
        },
    )
    for planned in schedules.mlperf_schedule(_filing_deadline(now, round.time_zone), round.time_zone):
        RoundPhase.objects.update_or_create(
            round=round, kind=planned.kind, defaults={"starts_at": planned.starts_at, "ends_at": planned.ends_at}
        )
    return round


def _submitter(email: str, organisation: Organisation):
    User = get_user_model()
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=DEMO_PASSWORD)
        from allauth.account.models import EmailAddress

        EmailAddress.objects.update_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
        Person.objects.create(
            user=user,
            full_name=f"Example submitter at {organisation.name}",
            is_demo=True,
            organisation=organisation,
            affiliation=Person.Affiliation.APPROVED,
        )
    person = user.person
    OrganisationRole.objects.get_or_create(
        person=person, organisation=organisation, role=OrganisationRole.Role.SUBMITTER
    )
    return user


def _upload(round: Round, organisation: Organisation, folder: str, deadline: dt.datetime) -> Submission:
    submission = Submission.objects.filter(round=round, organisation=organisation).first()
    if submission is not None:
        return submission
    with transaction.atomic():
        version = submission_services.submission_upload(
            round=round,
            organisation=organisation,
            division="closed",
            category="available",
            archive=_tar_gz(shared_results_dir() / folder),
            original_name=f"{folder}.tar.gz",
            actor=None,
            source="seed",
            enforce_rules=False,
            now=deadline - dt.timedelta(days=1),
        )
    # Unpack now (the other checks run on the worker): objections point at lines of these files.
    unpack = version.check_runs.get(kind=CheckKind.UNPACK)
    submission_services.check_run_execute(run_id=unpack.pk, attempt=unpack.attempt, worker="seed_demo")
    return version.submission


def _evidence(submission: Submission, key: str) -> list[dict]:
    """The first line of the first result file that logs `key` (or its first line)."""
    version = submission.versions.order_by("-number").first()
    root = submission_services.version_package_root(version)
    first = sorted((root / "results").glob("*/*/result_*.txt"))[0]
    for n, line in enumerate(first.read_text(errors="replace").splitlines(), 1):
        if f'"key": "{key}"' in line:
            return [{"path": str(first.relative_to(root)), "line": n}]
    return [{"path": str(first.relative_to(root)), "line": 1}]


def seed_review(*, today: dt.date | None = None, log=print) -> None:
    group = WorkingGroup.objects.filter(slug="training").first()
    if group is None or not shared_results_dir().is_dir():
        log("  no review example: the Training group or ../shared/mlperf is missing")
        return
    now = timezone.now()
    round = _round(group, now)
    deadline = round.phases.get(kind=schedules.SUBMISSION).ends_at
    subs, users = {}, {}
    for slug, folder, email in ORGANISATIONS:
        organisation = Organisation.objects.filter(slug=slug).first()
        if organisation is None or not (shared_results_dir() / folder).is_dir():
            continue
        users[slug] = _submitter(email, organisation)
        subs[slug] = _upload(round, organisation, folder, deadline)
    if len(subs) < 4 or Objection.objects.filter(round=round).exists():
        log(f"  review example round: {len(subs)} submissions (objections already there or too few submitters)")
        return
    chair = get_user_model().objects.filter(email="chair@example.org").first()

    def file(by: str, against: str, summary: str, rule: str, key: str, fix: bool) -> Objection:
        return services.objection_file(
            actor=users[by],
            submission=subs[against],
            summary=summary,
            rule=rule,
            fix_required=fix,
            details="Example objection invented for the demo.",
            evidence=_evidence(subs[against], key),
        )

    with transaction.atomic():
        file(
            "amd",
            "nvidia",
            "Evaluation frequency differs from the reference",
            "Training rules §9.5",
            "eval_samples",
            True,
        )
        answered = file(
            "dell",
            "amd",
            "Global batch size outside the reference range",
            "Training rules §9.2",
            "global_batch_size",
            True,
        )
        services.objection_respond(
            actor=users["amd"],
            objection=answered,
            acknowledges_fix=True,
            body="Example answer: we agree and will rerun with the allowed batch size.",
        )
        withdrawn = file("nvidia", "lenovo", "Seed not logged", "Training rules §5", "seed", False)
        services.objection_withdraw(actor=users["nvidia"], objection=withdrawn, reason="The seed is logged after all.")
        decided = file(
            "lenovo", "dell", "Optimizer hyperparameter not allowed", "Training rules §9.3", "opt_name", False
        )
        if chair is not None:
            services.objection_decide(
                actor=chair,
                objection=decided,
                outcome="rejected",
                note="Example decision: the hyperparameter is in the allowed list.",
            )
            vote = services.vote_open(
                actor=chair,
                round=round,
                objection=answered,
                question="Support Dell's objection against AMD?",
                options=[("Support: fix required", "fix_required"), ("Reject the objection", "rejected")],
                closes_at=round.phases.get(kind=schedules.OBJECTION_REVIEW).ends_at,
            )
            services.ballot_cast(actor=users["dell"], vote=vote, ranking=[vote.options.first().key])
            services.review_assignments_make(actor=chair, round=round)
        if "cisco" in subs:
            services.submission_withdraw(
                actor=users["cisco"],
                submission=subs["cisco"],
                reason="Example withdrawal: the system is not available in time.",
            )
    log(
        f"  review example round in objection filing: {len(subs)} real packages, "
        f"{Objection.objects.filter(round=round).count()} objections, {Vote.objects.filter(round=round).count()} "
        f"open vote, {Withdrawal.objects.filter(submission__round=round).count()} withdrawal, "
        f"{ReviewAssignment.objects.filter(round=round).count()} review assignments "
        f"(submitters: {', '.join(e for _, _, e in ORGANISATIONS[1:])}; password {DEMO_PASSWORD})"
    )
