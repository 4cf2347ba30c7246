"""A round in review with real files in its frozen versions, for the review tests."""

import datetime as dt
import hashlib
import json

from django.utils import timezone

from consortium.members.models import OrganisationRole
from submissions import services as submission_services
from submissions.models import Score, Submission, SubmissionVersion
from tests.factories import MembershipFactory, OrganisationFactory, member_of
from workinggroups.models import Round, RoundPhase

DAY = dt.timedelta(days=1)

LOG_LINES = [
    ':::MLLOG {"key": "submission_org", "value": "%s", "time_ms": 1, "metadata": {"lineno": 1}}',
    ':::MLLOG {"key": "init_start", "value": null, "time_ms": 2, "metadata": {"lineno": 2}}',
    ':::MLLOG {"key": "global_batch_size", "value": 4096, "time_ms": 3, "metadata": {"lineno": 3}}',
    ':::MLLOG {"key": "run_start", "value": null, "time_ms": 4, "metadata": {"lineno": 4}}',
    ':::MLLOG {"key": "run_stop", "value": null, "time_ms": 60004, "metadata": {"status": "success"}}',
]

# Where "now" lies: days since the deadline (deadline = now - offset).
PHASE_OFFSETS = {
    "submission": -3 * DAY,
    "objection_filing": 2 * DAY,
    "objection_review": 9 * DAY,
    "revision": 15 * DAY,
    "after_revision": 22 * DAY,
    "published": 30 * DAY,
}


def review_round(group, *, phase: str = "objection_filing", slug: str = "training-v5-1", name: str = "Training v5.1"):
    """A published round whose clock stands in `phase` now (MLPerf calendar offsets from the deadline)."""
    deadline = timezone.now() - PHASE_OFFSETS[phase]
    round = Round.objects.create(
        group=group,
        name=name,
        slug=slug,
        suite="training",
        ruleset="5.1.0",
        divisions=["closed", "open"],
        published=True,
        grace_minutes=60,
    )
    grace = dt.timedelta(minutes=60)
    phases = [
        ("registration", deadline - 84 * DAY, deadline - 56 * DAY),
        ("submission", deadline - 56 * DAY, deadline),
        ("objection_filing", deadline + grace, deadline + 7 * DAY),
        ("objection_review", deadline + 7 * DAY, deadline + 14 * DAY),
        ("revision", deadline + 14 * DAY, deadline + 19 * DAY),
        ("publication", deadline + 26 * DAY, deadline + 26 * DAY),
    ]
    for kind, start, end in phases:
        RoundPhase.objects.create(round=round, kind=kind, starts_at=start, ends_at=end)
    return round


def new_org(name: str, slug: str, *, submitter_email: str):
    org = MembershipFactory(organisation=OrganisationFactory(name=name, slug=slug, results_folder=name)).organisation
    user = member_of(org, OrganisationRole.Role.SUBMITTER, email=submitter_email).user
    return org, user


def frozen_submission(
    round,
    organisation,
    *,
    systems=("sys1",),
    benchmark="retinanet",
    minutes=42.5,
    verdict="passed",
    division="closed",
    nodes=2,
    per_node=8,
) -> Submission:
    """A submission with one in-time version whose package is on disk, as unpacked, with scores."""
    submission = Submission.objects.create(
        round=round, organisation=organisation, division=division, category="available"
    )
    folder = organisation.results_folder or organisation.name
    sha = hashlib.sha256(f"{organisation.slug}-{round.slug}".encode()).hexdigest()
    version = SubmissionVersion.objects.create(
        submission=submission,
        number=1,
        sha256=sha,
        size=100,
        original_name=f"{folder}.tar.gz",
        uploaded_at=timezone.now() - 40 * DAY,
        source="seed",
        in_time=True,
        state="unpacked",
        verdict=verdict,
    )
    root = submission_services.version_folder(version) / "package" / folder
    for n, system in enumerate(systems):
        (root / "systems").mkdir(parents=True, exist_ok=True)
        (root / "systems" / f"{system}.json").write_text(
            json.dumps(
                {
                    "submitter": organisation.name,
                    "division": division,
                    "status": "Available on-premise",
                    "system_name": f"{organisation.name} {system.upper()}",
                    "number_of_nodes": str(nodes),
                    "accelerators_per_node": str(per_node),
                    "accelerator_model_name": "Example GPU X1",
                    "framework": "PyTorch 2.5",
                }
            )
        )
        bench = root / "results" / system / benchmark
        bench.mkdir(parents=True, exist_ok=True)
        (bench / "result_0.txt").write_text("\n".join(LOG_LINES).replace("%s", organisation.name) + "\n")
        Score.objects.create(version=version, system=system, benchmark=benchmark, minutes=minutes + n)
    return submission
