"""Reads of the review and the published record, limited to what the asker may see."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Prefetch, QuerySet
from django.urls import reverse
from django.utils import timezone

from consortium.common.attention import AttentionItem
from consortium.members.permissions import Viewer, is_staff_admin, person_of
from submissions import selectors as submission_selectors
from submissions import services as submission_services
from submissions.models import Submission
from submissions.review import permissions
from submissions.review.models import (
    Ballot,
    Objection,
    ObjectionResponse,
    Publication,
    PublishedResult,
    PublishedScore,
    ReviewAssignment,
    RoundReview,
    Vote,
    Withdrawal,
    default_tie_break,
)
from workinggroups import schedules
from workinggroups import selectors as rounds
from workinggroups.models import Round
from workinggroups.permissions import chaired_groups

CONTEXT_LINES = 6


def _objections() -> QuerySet[Objection]:
    return Objection.objects.select_related(
        "round", "submission__organisation", "filed_by_organisation", "version"
    ).prefetch_related("evidence")


def objections_visible_to(user: Viewer, round: Round) -> QuerySet[Objection]:
    """The round's objections, for those who may see the review (and the submissions)."""
    if not permissions.can_view_review(user, round):
        return Objection.objects.none()
    visible = submission_selectors.submissions_visible_to(user).filter(round=round).values("pk")
    return _objections().filter(round=round, submission__in=visible)


def objection_for(user: Viewer, pk: int) -> Objection | None:
    objection = _objections().select_related("round__group").filter(pk=pk).first()
    if objection is None or not permissions.can_view_objection(user, objection):
        return None
    return objection


def objections_against(user: Viewer) -> QuerySet[Objection]:
    """The submitter's inbox: objections against their organisation, in every round."""
    organisation = permissions.organisation_of(user)
    if organisation is None:
        return Objection.objects.none()
    return (
        _objections()
        .filter(submission__organisation=organisation)
        .annotate(n_responses=Count("responses"))
        .order_by("-filed_at")
    )


def objections_filed_by(user: Viewer) -> QuerySet[Objection]:
    organisation = permissions.organisation_of(user)
    if organisation is None:
        return Objection.objects.none()
    return _objections().filter(filed_by_organisation=organisation).order_by("-filed_at")


def objection_responses(objection: Objection) -> QuerySet[ObjectionResponse]:
    return objection.responses.select_related("organisation", "author")


def evidence_context(objection: Objection) -> list[dict[str, Any]]:
    """Each piece of evidence with the lines around it, read from the frozen version's files."""
    root = submission_services.version_package_root(objection.version)
    out = []
    for item in objection.evidence.all():
        lines: list[tuple[int, str]] = []
        path = (root / item.path) if root else None
        if root is not None and path is not None and path.resolve().is_relative_to(root.resolve()) and path.is_file():
            text = path.read_bytes().decode("utf-8", errors="replace").splitlines()
            first = max(1, item.line - CONTEXT_LINES)
            lines = [(n, text[n - 1][:400]) for n in range(first, min(len(text), item.line + CONTEXT_LINES) + 1)]
        out.append({"evidence": item, "lines": lines or [(item.line, item.excerpt)]})
    return out


def round_votes(user: Viewer, round: Round) -> QuerySet[Vote]:
    if not permissions.can_view_review(user, round):
        return Vote.objects.none()
    return Vote.objects.filter(round=round).select_related("objection", "winner").prefetch_related("options")


def vote_for(user: Viewer, pk: int) -> Vote | None:
    vote = (
        Vote.objects.select_related("round__group", "objection__submission__organisation", "winner")
        .prefetch_related(
            "options", Prefetch("ballots", queryset=Ballot.objects.select_related("organisation", "cast_by"))
        )
        .filter(pk=pk)
        .first()
    )
    if vote is None or not permissions.can_view_review(user, vote.round):
        return None
    return vote


def review_dashboard(round: Round, at: dt.datetime | None = None) -> dict[str, Any]:
    """What the chair sees: objections by state, reviews assigned and done, votes, withdrawals, what
    the current phase still needs and when it ends."""
    at = at or timezone.now()
    objections = list(_objections().filter(round=round).order_by("state", "-filed_at"))
    by_state = {state: [o for o in objections if o.state == state] for state in Objection.State.values}
    assignments = list(ReviewAssignment.objects.filter(round=round).select_related("reviewer", "reviewed", "done_by"))
    votes = list(
        Vote.objects.filter(round=round).select_related("objection", "winner").annotate(n_ballots=Count("ballots"))
    )
    withdrawals = list(
        Withdrawal.objects.filter(submission__round=round).select_related("submission__organisation", "withdrawn_by")
    )
    submissions = list(
        Submission.objects.filter(round=round).select_related("organisation").annotate(latest=Count("versions"))
    )
    current = rounds.round_current_phase(round, at)
    ends = current.closes_at if current is not None and not current.is_instant else None
    needs: list[str] = []
    open_objections = by_state["filed"] + by_state["answered"]
    if current is not None:
        if current.kind == schedules.OBJECTION_FILING and not assignments:
            needs.append("Assign the required reviews (pairs by result count).")
        if current.kind == schedules.OBJECTION_FILING and any(a.done_at is None for a in assignments):
            needs.append(f"{sum(1 for a in assignments if a.done_at is None)} assigned reviews are not done yet.")
        if current.kind == schedules.OBJECTION_REVIEW and by_state["filed"]:
            needs.append(f"{len(by_state['filed'])} objections still wait for the accused's answer.")
        if current.kind in (schedules.OBJECTION_REVIEW, schedules.REVISION) and open_objections:
            needs.append(f"{len(open_objections)} objections still need a decision.")
        if any(v.state == Vote.State.OPEN for v in votes):
            needs.append(f"{sum(1 for v in votes if v.state == Vote.State.OPEN)} votes are open.")
        if current.kind == schedules.REVISION and by_state["decided"]:
            needs.append(f"{len(by_state['decided'])} decided objections wait for the fix to be confirmed and closed.")
    publication = Publication.objects.filter(round=round).first()
    return {
        "objections": objections,
        "by_state": [(Objection.State(s).label, s, items) for s, items in by_state.items()],
        "assignments": assignments,
        "reviews_done": sum(1 for a in assignments if a.done_at),
        "votes": votes,
        "withdrawals": withdrawals,
        "submissions": submissions,
        "current": current,
        "ends": ends,
        "seconds_left": int((ends - at).total_seconds()) if ends and ends > at else None,
        "needs": needs,
        "publication": publication,
        "publication_phase": rounds.round_phase(round, schedules.PUBLICATION),
    }


def round_tie_break_order(round: Round) -> list[str]:
    review = RoundReview.objects.filter(round=round).first()
    return list(review.tie_break_order) if review else default_tie_break()


def organisation_assignments(user: Viewer, round: Round) -> QuerySet[ReviewAssignment]:
    organisation = permissions.organisation_of(user)
    if organisation is None or not permissions.can_view_review(user, round):
        return ReviewAssignment.objects.none()
    return ReviewAssignment.objects.filter(round=round, reviewer=organisation).select_related("reviewed")


# ---------------------------------------------------------------- the published record


def round_publication(round: Round) -> Publication | None:
    return Publication.objects.filter(round=round).first()


def published_record(round: Round) -> QuerySet[PublishedResult]:
    """Public once the round is published: its results in result-ID order, scores prefetched."""
    return (
        PublishedResult.objects.filter(round=round, round__publication__isnull=False)
        .prefetch_related(Prefetch("scores", queryset=PublishedScore.objects.order_by("benchmark", "scaling")))
        .order_by("position")
    )


def published_result(result_id: str) -> PublishedResult | None:
    return (
        PublishedResult.objects.select_related("round__group", "round__publication", "version", "organisation")
        .prefetch_related("scores", "corrections__corrected_by")
        .filter(result_id=result_id)
        .first()
    )


def record_benchmarks(results: list[PublishedResult]) -> list[str]:
    return sorted({s.benchmark for r in results for s in r.scores.all() if s.scaling == "strong"})


def may_list_round_submissions(user: Viewer, round: Round) -> bool:
    """Whether `user` may learn the round's submissions at all (for a 404 before publication)."""
    return is_staff_admin(user) or submission_selectors.submissions_visible_to(user).filter(round=round).exists()


def withdrawn_submission_ids(round: Round) -> set[int]:
    return set(Withdrawal.objects.filter(submission__round=round).values_list("submission_id", flat=True))


def attention_items(user: Viewer) -> list:
    """Dashboard items: objections waiting for the organisation's answer, open votes it has not
    voted in, and the review of the rounds a chair runs."""

    items = []
    now = timezone.now()
    person = person_of(user)
    acting = False
    if person is not None and person.is_approved_member and person.organisation_id is not None:
        acting = person.roles.filter(organisation_id=person.organisation_id, role__in=permissions.ACTING_ROLES).exists()
    organisation = person.organisation if person is not None and acting else None
    if organisation is not None:
        for objection in objections_against(user).filter(state=Objection.State.FILED):
            if permissions.can_view_review(user, objection.round, now):
                items.append(
                    AttentionItem(
                        f"Objection {objection.pk} against {organisation} waits for your answer",
                        f"{objection.filed_by_organisation}: {objection.summary} ({objection.round.name}).",
                        reverse("submissions:objection", kwargs={"pk": objection.pk}),
                        "warning",
                    )
                )
        votes = (
            Vote.objects.filter(
                state=Vote.State.OPEN,
                closes_at__gt=now,
                round__submissions__organisation=organisation,
                round__submissions__versions__in_time=True,
            )
            .exclude(ballots__organisation=organisation)
            .select_related("round")
            .distinct()
        )
        for vote in votes:
            items.append(
                AttentionItem(
                    f"Vote open: {vote.question}",
                    f"{vote.round.name}; closes {vote.closes_at:%d %b %Y %H:%M} UTC.",
                    reverse("submissions:ballot", kwargs={"pk": vote.pk}),
                )
            )
    review_kinds = (schedules.OBJECTION_FILING, schedules.OBJECTION_REVIEW, schedules.REVISION)
    chaired = Round.objects.filter(group__in=chaired_groups(user)).prefetch_related("phases")
    for round in chaired:
        current = rounds.round_current_phase(round, now)
        if current is not None and current.kind in review_kinds:
            items.append(
                AttentionItem(
                    f"Review of {round.name}: {current.label.lower()}",
                    f"Until {current.closes_at:%d %b %Y %H:%M} UTC.",
                    reverse("submissions:review_dashboard", kwargs={"slug": round.slug}),
                )
            )
    return items


def result_citation(result: PublishedResult, url: str) -> str:
    """The citation line of a published result (its page and the results explorer's)."""
    return (
        f"MLCommons consortium, MLPerf {result.round.name} result {result.result_id}: {result.organisation_name}, "
        f"{result.system_name} ({result.division}, {result.availability}), published "
        f"{result.published_at:%d %B %Y}. {url} (package SHA-256 {result.version_sha256})."
    )
