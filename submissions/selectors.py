"""Reads of submissions, versions, checks and workers, limited to what the asker may see."""

import datetime as dt
from collections import Counter
from typing import Any

from django.conf import settings
from django.db.models import Count, Max, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from consortium.common.attention import AttentionItem
from consortium.members.permissions import Viewer, is_staff_admin, person_of
from submissions.models import (
    CheckRun,
    Finding,
    InferenceScore,
    Score,
    Submission,
    SubmissionVersion,
    Worker,
    WorkerPool,
)
from submissions.permissions import can_view_submission, results_published, upload_refusal
from workinggroups import schedules
from workinggroups import selectors as rounds
from workinggroups.models import Round
from workinggroups.permissions import chaired_groups


def submissions_visible_to(user: Viewer, at: dt.datetime | None = None) -> QuerySet[Submission]:
    """Every submission `user` may see now, as `permissions.can_view_submission` decides: their
    organisation's; after the deadline (plus grace) every submission of the rounds their
    organisation submitted to and of their groups' rounds (chairs); published rounds' (everyone);
    all (staff)."""
    at = at or timezone.now()
    qs = Submission.objects.select_related("round__group", "organisation")
    if is_staff_admin(user):
        return qs
    # permissions.results_published, as a query. A subquery, not a join through the phases: a join
    # gives each submission once per phase and needs a DISTINCT over the whole list (issue 15).
    published = Round.objects.filter(published=True, phases__kind="publication", phases__starts_at__lte=at)
    allowed = Q(round__in=published.values("pk"))
    person = person_of(user)
    peer_rounds = Q(pk__in=[])
    if person is not None and person.is_approved_member and person.organisation_id:
        allowed |= Q(organisation_id=person.organisation_id)
        # Peer review: the rounds the organisation submitted to (a version in time).
        peer_rounds = Q(submissions__organisation_id=person.organisation_id, submissions__versions__in_time=True)
    chair_rounds = Q(group__in=list(chaired_groups(user).values_list("pk", flat=True)))
    past_deadline = [
        r.pk
        for r in Round.objects.filter(peer_rounds | chair_rounds).distinct().prefetch_related("phases")
        if (d := rounds.round_deadline_with_grace(r)) is not None and at >= d
    ]
    if past_deadline:
        allowed |= Q(round_id__in=past_deadline)
    return qs.filter(allowed)  # no join in `allowed`: each submission once, without DISTINCT


def submission_for(user: Viewer, pk: int) -> Submission | None:
    submission = Submission.objects.select_related("round__group", "organisation").filter(pk=pk).first()
    if submission is None or not can_view_submission(user, submission):
        return None
    return submission


def submission_versions(submission: Submission) -> list[SubmissionVersion]:
    runs = CheckRun.objects.select_related("pool").annotate(
        errors=Count("findings", filter=Q(findings__severity="error")),
        warnings=Count("findings", filter=Q(findings__severity="warning")),
        advisories=Count("findings", filter=Q(findings__severity="advisory")),
    )
    return list(
        submission.versions.select_related("uploaded_by")
        .prefetch_related(Prefetch("check_runs", queryset=runs), "scores", "inference_scores")
        .order_by("-number")
    )


def official_version(submission: Submission) -> SubmissionVersion | None:
    """The version that counts: the latest uploaded in time (before deadline + grace, or in a fix window)."""
    return submission.versions.filter(in_time=True).order_by("-number").first()


def version_findings(version: SubmissionVersion, *, severity: str = "", check: str = "") -> QuerySet[Finding]:
    """The current findings of a version (each run's latest attempt), filtered."""
    qs = Finding.objects.filter(run__version=version).select_related("run")
    latest = {r.pk: r.attempt for r in version.check_runs.all()}
    condition = Q()
    for run_id, attempt in latest.items():
        condition |= Q(run_id=run_id, attempt=attempt)
    qs = qs.filter(condition) if latest else qs.none()
    if severity:
        qs = qs.filter(severity=severity)
    if check:
        qs = qs.filter(run__kind=check)
    return qs.order_by("path", "line", "id")


def round_submissions_for(user: Viewer, round: Round) -> QuerySet[Submission]:
    return (
        submissions_visible_to(user)
        .filter(round=round)
        .annotate(
            latest=Max("versions__number"),
            version_count=Count("versions", distinct=True),
            latest_verdict=Subquery(
                SubmissionVersion.objects.filter(submission=OuterRef("pk")).order_by("-number").values("verdict")[:1]
            ),
        )
        .order_by("organisation__name", "division", "pk")
    )


def disagreements() -> QuerySet[SubmissionVersion]:
    return SubmissionVersion.objects.filter(disagreement=True).select_related(
        "submission__round", "submission__organisation"
    )


def worker_overview(now: dt.datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=settings.WORKER_STALE_AFTER)
    pools = list(WorkerPool.objects.all())
    workers = list(Worker.objects.select_related("pool").order_by("pool__name", "hostname"))
    # order_by(): no joins for the model's ordering in these counts over every check run.
    queued = dict(
        CheckRun.objects.filter(state=CheckRun.State.QUEUED).order_by().values_list("pool_id").annotate(n=Count("id"))
    )
    running = list(
        CheckRun.objects.filter(state=CheckRun.State.RUNNING).select_related(
            "version__submission__organisation", "pool"
        )
    )
    # A worker serves a pool when it is registered to it or consumes its queue (`make run`'s one
    # worker consumes every pool's queue).
    serves = {w.pk: [p for p in pools if w.pool_id == p.pk or p.queue in (w.queues or [])] for w in workers}
    live = {w.pk: w.last_heartbeat >= cutoff and not w.stopped_at for w in workers}
    hour_ago = now - dt.timedelta(hours=1)
    # Counted here, not with GROUP BY, so that the database reads only the last hour's runs (by the
    # finished_at index) rather than walking every check run in pool order.
    done_last_hour = Counter(CheckRun.objects.filter(finished_at__gte=hour_ago).values_list("pool_id", flat=True))
    return {
        "pools": [
            {
                "pool": p,
                "queued": queued.get(p.pk, 0),
                "done_last_hour": done_last_hour.get(p.pk, 0),
                "live": sum(1 for w in workers if live[w.pk] and p in serves[w.pk]),
            }
            for p in pools
        ],
        "unpooled_queued": queued.get(None, 0),
        "workers": [{"worker": w, "live": live[w.pk], "serves": serves[w.pk]} for w in workers],
        "running": running,
    }


def attention_items(user: Viewer) -> list[AttentionItem]:
    """Dashboard items: rounds the person's organisation can still upload to, and its failing versions."""
    person = person_of(user)
    if person is None or person.organisation is None or not person.is_approved_member:
        return []
    items = []
    now = timezone.now()
    for round in rounds.rounds_in_phase(rounds.rounds_visible_to(user), ("submission",), now):
        if not rounds.round_submission_window_open(round, now):
            continue
        if upload_refusal(user, round, person.organisation) is not None:
            continue
        deadline = rounds.round_deadline_with_grace(round)
        latest = (
            SubmissionVersion.objects.filter(submission__round=round, submission__organisation=person.organisation)
            .order_by("-uploaded_at")
            .first()
        )
        if latest is None:
            items.append(
                AttentionItem(
                    f"Upload your submission to {round.name}",
                    f"The window closes {schedules.format_moment_with_utc(deadline, round.tz)} (with grace)."
                    if deadline
                    else "",
                    f"/rounds/{round.slug}/upload/",
                )
            )
        elif latest.verdict in (SubmissionVersion.Verdict.FAILED, SubmissionVersion.Verdict.ERRORED):
            items.append(
                AttentionItem(
                    f"Your latest upload to {round.name} {latest.get_verdict_display().lower()}",
                    "Read the findings and upload a fixed version before the deadline.",
                    f"/submissions/{latest.submission_id}/",
                    "warning",
                )
            )
    return items


def _display(choices: dict[str, str], value: str) -> str:
    """What `get_FOO_display` says: the choice's label, or the stored value when it is not a choice."""
    return choices.get(value, value)


def published_results(round: Round) -> list[dict[str, Any]]:
    """The scores of every submission's counting version that passed, by benchmark (inference: by model
    and scenario), best first: the shortest time or latency, the highest throughput. Empty while the
    results are under embargo."""
    if not results_published(round):
        return []
    # The counting version of each submission (latest in time), found in one query.
    counting = SubmissionVersion.objects.filter(submission=OuterRef("submission"), in_time=True).order_by("-number")
    passed = SubmissionVersion.objects.filter(
        submission__round=round,
        pk=Subquery(counting.values("pk")[:1]),
        verdict=SubmissionVersion.Verdict.PASSED,
    )
    # Plain values, not model instances: a round has a hundred rows or more, and building four model
    # instances per row cost more than the query and the template together (issue 15).
    divisions = dict(Submission.Division.choices)
    categories = dict(Submission.Category.choices)
    submission_fields = ("version__submission_id", "version__submission__organisation__name",
                         "version__submission__division", "version__submission__category")  # fmt: skip
    if round.suite == Round.Suite.INFERENCE:
        found = InferenceScore.objects.filter(version__in=passed).values(
            "model", "scenario", "system_name", "system", "accelerator", "accelerator_count", "value", "units",
            "accuracy_metric", "accuracy", "division", *submission_fields,
        )  # fmt: skip
        rows = [
            {
                "benchmark": f"{s['model']}, {s['scenario']}",
                "system": s["system_name"] or s["system"],
                "accelerator": s["accelerator"],
                "accelerator_count": s["accelerator_count"],
                "score": s["value"],
                "units": s["units"],
                "lower_is_better": s["units"] in InferenceScore.LOWER_IS_BETTER,
                "accuracy": f"{s['accuracy_metric']} {s['accuracy']:g}" if s["accuracy"] is not None else "",
                "organisation": s["version__submission__organisation__name"],
                "division": s["division"].capitalize() or _display(divisions, s["version__submission__division"]),
                "category": _display(categories, s["version__submission__category"]),
                "submission": s["version__submission_id"],
            }
            for s in found
        ]
    else:
        scores = Score.objects.filter(version__in=passed).values(
            "benchmark", "scaling", "system_name", "system", "accelerator", "accelerator_count", "minutes",
            *submission_fields,
        )  # fmt: skip
        rows = [
            {
                "benchmark": s["benchmark"]
                if s["scaling"] == Score.Scaling.STRONG
                else f"{s['benchmark']} (weak scaling)",
                "system": s["system_name"] or s["system"],
                "accelerator": s["accelerator"],
                "accelerator_count": s["accelerator_count"],
                "minutes": s["minutes"],
                "score": s["minutes"],
                "units": "minutes",
                "lower_is_better": True,
                "organisation": s["version__submission__organisation__name"],
                "division": _display(divisions, s["version__submission__division"]),
                "category": _display(categories, s["version__submission__category"]),
                "submission": s["version__submission_id"],
            }
            for s in scores
        ]
    return sorted(
        rows, key=lambda r: (r["benchmark"], r["division"], r["score"] if r["lower_is_better"] else -r["score"])
    )


def results_still_checking(round: Round) -> int:
    """How many submissions of a published round have a counting version whose checks still run
    (their scores join the results when the checks end). 0 while the results are under embargo."""
    if not results_published(round):
        return 0
    counting = SubmissionVersion.objects.filter(submission=OuterRef("submission"), in_time=True).order_by("-number")
    return SubmissionVersion.objects.filter(
        submission__round=round, pk=Subquery(counting.values("pk")[:1]), verdict=SubmissionVersion.Verdict.PENDING
    ).count()
