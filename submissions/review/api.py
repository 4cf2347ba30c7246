"""The review and publication endpoints of the HTTP API, on the same NinjaAPI (submissions/api.py):
the same token auth and the same error shape. Registered by importing this module (consortium/urls.py).

A round or submission the caller may not see is a 404, so that its existence does not leak."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import OuterRef, Subquery
from django.http import HttpRequest
from django.urls import reverse
from ninja import Schema, Status

from consortium.audit.client import client_address
from submissions import selectors as submission_selectors
from submissions.api import PUBLIC_AUTH, READ_AUTH, ErrorOut, _error, _validation_error, api, bearer
from submissions.models import SubmissionVersion
from submissions.review import selectors, services
from submissions.review.models import Objection, Withdrawal
from workinggroups import selectors as rounds


class RoundSubmissionOut(Schema):
    id: int
    organisation: str
    organisation_name: str
    division: str
    category: str
    verdict: str | None
    withdrawn: bool
    url: str


class EvidenceIn(Schema):
    path: str
    line: int


class ObjectionIn(Schema):
    against: int
    summary: str
    details: str = ""
    rule: str
    fix_required: bool = False
    evidence: list[EvidenceIn]


class EvidenceOut(Schema):
    path: str
    line: int
    excerpt: str


class ObjectionOut(Schema):
    id: int
    state: str
    against: int
    against_organisation: str
    filed_by: str
    summary: str
    details: str
    rule: str
    fix_required: bool
    outcome: str
    version: int
    version_sha256: str
    filed_at: dt.datetime
    evidence: list[EvidenceOut]
    url: str


class WithdrawIn(Schema):
    reason: str


class WithdrawalOut(Schema):
    submission: int
    reason: str
    withdrawn_at: dt.datetime


class ResultOut(Schema):
    result_id: str
    organisation: str
    submitter_folder: str
    system: str
    system_name: str
    division: str
    availability: str
    benchmark: str
    score: float
    units: str
    accelerator: str
    accelerator_count: int | None
    nodes: int | None
    framework: str
    version_sha256: str


class ResultsOut(Schema):
    round: str
    published_at: dt.datetime | None
    results: list[ResultOut]


def _round_or_404(request: HttpRequest, slug: str):
    round = rounds.round_for(request.auth, slug)
    if round is None:
        return None, _error(request, 404, f"No round {slug!r} (or it is not published).")
    return round, None


@api.get(
    "/v1/rounds/{slug}/submissions",
    auth=READ_AUTH,
    response={200: list[RoundSubmissionOut], 401: ErrorOut, 404: ErrorOut},
    url_name="round_submissions",
    summary="The submissions of a round that you may see",
    tags=["review"],
)
def round_submissions(request: HttpRequest, slug: str):
    """Your organisation's; after the deadline every submission of the round when your organisation
    submitted to it (peer review) or you chair its group; everyone's once results are published.
    `verdict` is that of the version that counts (the latest uploaded in time)."""
    round, missing = _round_or_404(request, slug)
    if missing:
        return missing
    counting = SubmissionVersion.objects.filter(submission=OuterRef("pk"), in_time=True).order_by("-number")
    subs = submission_selectors.round_submissions_for(request.auth, round).annotate(
        counting_verdict=Subquery(counting.values("verdict")[:1])
    )
    withdrawn = set(Withdrawal.objects.filter(submission__round=round).values_list("submission_id", flat=True))
    return [
        {
            "id": s.pk,
            "organisation": s.organisation.slug,
            "organisation_name": s.organisation.name,
            "division": s.division,
            "category": s.category,
            "verdict": s.counting_verdict,
            "withdrawn": s.pk in withdrawn,
            "url": request.build_absolute_uri(reverse("submissions:detail", kwargs={"pk": s.pk})),
        }
        for s in subs
    ]


def _objection_body(request: HttpRequest, o: Objection) -> dict:
    return {
        "id": o.pk,
        "state": o.state,
        "against": o.submission_id,
        "against_organisation": o.submission.organisation.slug,
        "filed_by": o.filed_by_organisation.slug,
        "summary": o.summary,
        "details": o.details,
        "rule": o.rule,
        "fix_required": o.fix_required,
        "outcome": o.outcome,
        "version": o.version.number,
        "version_sha256": o.version.sha256,
        "filed_at": o.filed_at,
        "evidence": [{"path": e.path, "line": e.line, "excerpt": e.excerpt} for e in o.evidence.all()],
        "url": request.build_absolute_uri(reverse("submissions:objection", kwargs={"pk": o.pk})),
    }


@api.post(
    "/v1/rounds/{slug}/objections",
    auth=[bearer],
    response={201: ObjectionOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    url_name="objections",
    summary="File an objection against another organisation's submission",
    tags=["review"],
)
def objection_file(request: HttpRequest, slug: str, payload: ObjectionIn):
    """During objection filing, a submitter of an organisation that submitted to the round files an
    objection with evidence at files and lines of the submission's frozen (counting) version."""
    round, missing = _round_or_404(request, slug)
    if missing:
        return missing
    submission = submission_selectors.submission_for(request.auth, payload.against)
    if submission is None or submission.round_id != round.pk:
        message = f"No submission {payload.against} in {round.name} (or you may not see it)."
        return _error(request, 404, message, {"against": message})
    try:
        objection = services.objection_file(
            actor=request.auth,
            submission=submission,
            summary=payload.summary,
            details=payload.details,
            rule=payload.rule,
            fix_required=payload.fix_required,
            evidence=[e.dict() for e in payload.evidence],
            ip_address=client_address(request),
        )
    except PermissionDenied as exc:
        return _error(request, 403, str(exc))
    except ValidationError as exc:
        detail, errors = _validation_error(exc)
        return _error(request, 400, detail, errors)
    return Status(201, _objection_body(request, selectors.objection_for(request.auth, objection.pk)))


@api.get(
    "/v1/rounds/{slug}/objections",
    auth=READ_AUTH,
    response={200: list[ObjectionOut], 401: ErrorOut, 404: ErrorOut},
    url_name="objections_list",
    summary="The objections of a round that you may see",
    tags=["review"],
)
def objection_list(request: HttpRequest, slug: str):
    """The review is confidential to the chairs, staff and the organisations that submitted to the
    round; others get an empty list."""
    round, missing = _round_or_404(request, slug)
    if missing:
        return missing
    return [_objection_body(request, o) for o in selectors.objections_visible_to(request.auth, round)]


@api.post(
    "/v1/submissions/{submission_id}/withdraw",
    auth=[bearer],
    response={201: WithdrawalOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    url_name="withdraw",
    summary="Withdraw a submission (until the revision deadline)",
    tags=["review"],
)
def withdraw(request: HttpRequest, submission_id: int, payload: WithdrawIn):
    submission = submission_selectors.submission_for(request.auth, submission_id)
    if submission is None:
        return _error(request, 404, f"No submission {submission_id} (or you may not see it).")
    try:
        withdrawal = services.submission_withdraw(
            actor=request.auth, submission=submission, reason=payload.reason, ip_address=client_address(request)
        )
    except PermissionDenied as exc:
        return _error(request, 403, str(exc))
    except ValidationError as exc:
        detail, errors = _validation_error(exc)
        return _error(request, 400, detail, errors)
    return Status(
        201, {"submission": submission.pk, "reason": withdrawal.reason, "withdrawn_at": withdrawal.withdrawn_at}
    )


@api.get(
    "/v1/rounds/{slug}/results",
    auth=PUBLIC_AUTH,
    response={200: ResultsOut, 401: ErrorOut, 404: ErrorOut},
    url_name="results",
    summary="The published record of a round: one entry per result and benchmark",
    tags=["results"],
)
def results(request: HttpRequest, slug: str):
    """After publication, for everyone (no authentication needed). Before: 404 for those who may
    not see the round's submissions; an empty list with `published_at: null` for those who may."""
    round, missing = _round_or_404(request, slug)
    if missing:
        return missing
    publication = selectors.round_publication(round)
    if publication is None:
        if not selectors.may_list_round_submissions(request.auth, round):
            return _error(request, 404, f"{round.name} has no published results (they are under embargo).")
        return {"round": round.slug, "published_at": None, "results": []}
    rows = []
    for r in selectors.published_record(round):
        for s in r.scores.all():
            rows.append(
                {
                    "result_id": r.result_id,
                    "organisation": r.organisation_name,
                    "submitter_folder": r.submitter_folder,
                    "system": r.system,
                    "system_name": r.system_name,
                    "division": r.division,
                    "availability": r.availability,
                    "benchmark": s.benchmark if s.scaling == "strong" else f"{s.benchmark}:weak",
                    "score": s.score,
                    "units": s.units,
                    "accelerator": r.accelerator,
                    "accelerator_count": r.accelerator_count,
                    "nodes": r.nodes,
                    "framework": r.framework,
                    "version_sha256": r.version_sha256,
                }
            )
    return {"round": round.slug, "published_at": publication.published_at, "results": rows}
