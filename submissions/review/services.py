"""Writes of the review and publication of a round. Keyword-only, typed, atomic; every change is in
the audit log and every notice goes, after commit, to exactly those who may see the submission."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from consortium.audit.services import audit_record
from consortium.common.mail import site_link
from consortium.members.models import Organisation, Person, User
from consortium.members.permissions import Viewer
from submissions import selectors as submission_selectors
from submissions import services as submission_services
from submissions.models import InferenceScore, Score, Submission, SubmissionVersion
from submissions.notices import submission_mail
from submissions.permissions import can_view_submission
from submissions.results.services import published_details_record
from submissions.review import pairing, permissions, tally
from submissions.review.models import (
    Ballot,
    Correction,
    Objection,
    ObjectionEvidence,
    ObjectionResponse,
    Outcome,
    Publication,
    PublishedResult,
    PublishedScore,
    ReviewAssignment,
    RoundReview,
    Vote,
    VoteOption,
    Withdrawal,
)
from submissions.review.systems import system_facts
from workinggroups import schedules
from workinggroups import selectors as rounds
from workinggroups.models import GroupMembership, Round
from workinggroups.permissions import CHAIR_ROLES

MAX_EVIDENCE = 20
EXCERPT_CHARS = 500


# ---------------------------------------------------------------- phases and notices


def phase_refusal(round: Round, kinds: Sequence[str], action: str, at: dt.datetime) -> str | None:
    """Why `action` is not possible now: the round is not in one of the phases `kinds`."""
    current = rounds.round_current_phase(round, at)
    if current is not None and current.kind in kinds:
        return None
    labels = " or ".join(schedules.PHASE_LABELS[k].lower() for k in kinds)
    now_label = current.label.lower() if current else "between phases"
    return f"{action} only during {labels}; {round.name} is {now_label} now."


def review_audience(submission: Submission, organisations: Iterable[Organisation]) -> list[str]:
    """The people to tell about `submission`: those who act for `organisations` and the group's
    chairs, each only if they may see the submission now (the one visibility predicate)."""
    org_ids = {o.pk for o in organisations}
    people = list(
        Person.objects.filter(organisation_id__in=org_ids, roles__role__in=permissions.ACTING_ROLES)
        .select_related("user")
        .distinct()
    )
    chair_ids = GroupMembership.objects.filter(group=submission.round.group, role__in=CHAIR_ROLES).values("person")
    people += list(Person.objects.filter(pk__in=chair_ids).select_related("user"))
    emails: dict[str, None] = {}
    for person in people:
        user = person.user
        if user is not None and user.is_active and can_view_submission(user, submission):
            emails[user.email] = None
    return list(emails)


def _notify(submission: Submission, organisations: Iterable[Organisation], subject: str, body: str) -> None:
    # One message per event: the key is the subject and body, so a repeated call mails nothing new.
    digest = hashlib.sha256(f"{subject}\n{body}".encode()).hexdigest()[:32]
    submission_mail(
        key=f"review:{submission.pk}:{digest}",
        submission=submission,
        recipients=review_audience(submission, organisations),
        subject=subject,
        body=body,
    )


def _objection_link(objection: Objection) -> str:
    return site_link("submissions:objection", pk=objection.pk)


# ---------------------------------------------------------------- objections


def _evidence_lines(version: SubmissionVersion, evidence: Sequence[dict[str, Any]]) -> list[tuple[str, int, str]]:
    """Each (path, line, excerpt), checked against the frozen files of `version`."""
    root = submission_services.version_package_root(version)
    if root is None:
        raise ValidationError({"evidence": f"Version {version.number} has no unpacked files to point at."})
    if not evidence:
        raise ValidationError({"evidence": "Point at the evidence: at least one file and line of the version."})
    if len(evidence) > MAX_EVIDENCE:
        raise ValidationError({"evidence": f"At most {MAX_EVIDENCE} pieces of evidence per objection."})
    found = []
    base = root.resolve()
    for item in evidence:
        path = str(item.get("path") or "").strip().lstrip("/")
        try:
            raw_line: Any = item.get("line")  # untrusted: int() says whether it is a line number
            line = int(raw_line)
        except (TypeError, ValueError):
            raise ValidationError({"evidence": f"The line of {path!r} must be a whole number."}) from None
        target = (root / path).resolve() if path else base
        if not path or not target.is_relative_to(base) or not target.is_file() or target.is_symlink():
            raise ValidationError({"evidence": f"Version {version.number} of this submission has no file {path!r}."})
        lines = target.read_bytes().decode("utf-8", errors="replace").splitlines()
        if not 1 <= line <= len(lines):
            raise ValidationError(
                {"evidence": f"{path} has {len(lines)} lines in version {version.number}; there is no line {line}."}
            )
        found.append((path, line, lines[line - 1][:EXCERPT_CHARS]))
    return found


def objection_refusal(user: Viewer, submission: Submission, at: dt.datetime) -> str | None:
    """Why `user` may not file an objection against `submission` now, or None."""
    round = submission.round
    if not can_view_submission(user, submission, at):
        return "No such submission (or you may not see it)."
    organisation = permissions.organisation_of(user)
    if organisation is None or not permissions.acts_for(user, organisation):
        return "Only submitters and primary contacts of a submitting organisation file objections."
    if not permissions.organisation_submitted_to(round, organisation.pk):
        return f"{organisation} did not submit to {round.name}; only submitting organisations file objections."
    if organisation.pk == submission.organisation_id:
        return "You cannot file an objection against your own organisation's submission."
    return phase_refusal(round, [schedules.OBJECTION_FILING], "Objections are filed", at)


@transaction.atomic
def objection_file(
    *,
    actor: User,
    submission: Submission,
    summary: str,
    rule: str,
    details: str = "",
    fix_required: bool = False,
    evidence: Sequence[dict[str, Any]],
    at: dt.datetime | None = None,
    ip_address: str | None = None,
) -> Objection:
    at = at or timezone.now()
    refusal = objection_refusal(actor, submission, at)
    if refusal:
        raise PermissionDenied(refusal)
    errors = {}
    if not summary.strip():
        errors["summary"] = "Say in one line what is wrong."
    elif len(summary.strip()) > 200:
        errors["summary"] = "Keep the summary to 200 characters; put the rest in the details."
    if not rule.strip():
        errors["rule"] = "Name the rule (section) that the submission breaks."
    if errors:
        raise ValidationError(errors)
    version = submission_selectors.official_version(submission)
    if version is None:
        raise ValidationError({"evidence": "The submission has no version uploaded in time to object to."})
    lines = _evidence_lines(version, evidence)
    organisation = permissions.organisation_of(actor)
    assert organisation is not None  # objection_refusal has required one
    objection = Objection.objects.create(
        round=submission.round,
        submission=submission,
        version=version,
        filed_by_organisation=organisation,
        filed_by=actor,
        filed_at=at,
        summary=summary.strip(),
        details=details.strip(),
        rule=rule.strip(),
        fix_required=fix_required,
    )
    ObjectionEvidence.objects.bulk_create(
        ObjectionEvidence(objection=objection, path=p, line=n, excerpt=e) for p, n, e in lines
    )
    audit_record(
        actor=actor,
        action="review.objection_filed",
        target=objection,
        organisation=organisation,
        ip_address=ip_address,
        data={"against": submission.pk, "version": version.number, "evidence": [f"{p}:{n}" for p, n, _ in lines]},
    )
    _notify(
        submission,
        [submission.organisation, organisation],
        f"Objection against {submission.organisation} in {submission.round.name}",
        f"{organisation} filed an objection against {submission} (version {version.number}):\n\n"
        f"{objection.summary}\nRule: {objection.rule}\n\n{_objection_link(objection)}\n",
    )
    return objection


@transaction.atomic
def objection_respond(
    *,
    actor: User,
    objection: Objection,
    body: str,
    acknowledges_fix: bool = False,
    at: dt.datetime | None = None,
    ip_address: str | None = None,
) -> ObjectionResponse:
    at = at or timezone.now()
    objection = (
        Objection.objects.select_for_update(of=("self",))
        .select_related("submission__organisation", "round")
        .get(pk=objection.pk)
    )
    organisation = permissions.organisation_of(actor)
    parties = {objection.submission.organisation_id, objection.filed_by_organisation_id}
    if organisation is None or organisation.pk not in parties or not permissions.acts_for(actor, organisation):
        raise PermissionDenied("Only the accused and the objecting organisation answer an objection.")
    if objection.state not in Objection.OPEN_STATES:
        raise PermissionDenied(f"The objection is {objection.get_state_display().lower()}; it takes no answers.")
    refusal = phase_refusal(
        objection.round, [schedules.OBJECTION_FILING, schedules.OBJECTION_REVIEW], "Objections are answered", at
    )
    if refusal:
        raise PermissionDenied(refusal)
    if not body.strip():
        raise ValidationError({"body": "Write the answer."})
    accused = organisation.pk == objection.submission.organisation_id
    response = ObjectionResponse.objects.create(
        objection=objection,
        organisation=organisation,
        author=actor,
        body=body.strip(),
        acknowledges_fix=acknowledges_fix and accused,
        created_at=at,
    )
    changes = []
    if accused and objection.state == Objection.State.FILED:
        objection.state = Objection.State.ANSWERED
        changes.append("state")
    if accused and acknowledges_fix and not objection.fix_required:
        objection.fix_required = True
        changes.append("fix_required")
    if changes:
        objection.save(update_fields=changes)
    audit_record(
        actor=actor,
        action="review.objection_answered",
        target=objection,
        organisation=organisation,
        ip_address=ip_address,
        data={"response": response.pk, "acknowledges_fix": response.acknowledges_fix},
    )
    _notify(
        objection.submission,
        parties_of(objection),
        f"Answer to objection {objection.pk} ({objection.round.name})",
        f"{organisation} answered the objection “{objection.summary}”.\n\n{_objection_link(objection)}\n",
    )
    return response


def parties_of(objection: Objection) -> list[Organisation]:
    return [objection.submission.organisation, objection.filed_by_organisation]


@transaction.atomic
def objection_withdraw(
    *, actor: User, objection: Objection, reason: str = "", at: dt.datetime | None = None, ip_address: str | None = None
) -> Objection:
    """The objector no longer stands behind the objection (MLPerf: removes its "by <org>" tag)."""
    at = at or timezone.now()
    objection = Objection.objects.select_for_update().get(pk=objection.pk)
    organisation = permissions.organisation_of(actor)
    if (
        organisation is None
        or organisation.pk != objection.filed_by_organisation_id
        or not permissions.acts_for(actor, organisation)
    ):
        raise PermissionDenied("Only the objecting organisation withdraws its objection.")
    if objection.state not in Objection.OPEN_STATES:
        raise PermissionDenied(f"The objection is already {objection.get_state_display().lower()}.")
    objection.state = Objection.State.WITHDRAWN
    objection.closed_at = at
    objection.save(update_fields=["state", "closed_at"])
    audit_record(
        actor=actor,
        action="review.objection_withdrawn",
        target=objection,
        organisation=organisation,
        ip_address=ip_address,
        reason=reason,
    )
    _notify(
        objection.submission,
        parties_of(objection),
        f"Objection {objection.pk} withdrawn",
        f"{organisation} withdrew the objection “{objection.summary}”.\n\n{_objection_link(objection)}\n",
    )
    return objection


@transaction.atomic
def objection_decide(
    *,
    actor: User,
    objection: Objection,
    outcome: str,
    note: str = "",
    vote: Vote | None = None,
    at: dt.datetime | None = None,
    ip_address: str | None = None,
) -> Objection:
    """The committee's decision (by consensus, or the winner of `vote`), and what follows from it:
    a fix window until the end of revision, a withdrawal, or a move to open or preview."""
    at = at or timezone.now()
    objection = (
        Objection.objects.select_for_update(of=("self",))
        .select_related("submission__round__group")
        .get(pk=objection.pk)
    )
    submission = objection.submission
    round = objection.round
    if vote is None and not permissions.is_review_chair(actor, round):
        raise PermissionDenied("Only the round's chairs and staff decide objections.")
    if objection.state not in Objection.OPEN_STATES:
        raise PermissionDenied(f"The objection is {objection.get_state_display().lower()}; it cannot be decided.")
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": f"Choose one of: {', '.join(Outcome.values)}."})
    objection.state = Objection.State.DECIDED
    objection.outcome = outcome
    objection.decision_note = note.strip()
    objection.decided_at = at
    objection.decided_by = actor if getattr(actor, "is_authenticated", False) else None
    objection.save(update_fields=["state", "outcome", "decision_note", "decided_at", "decided_by"])
    data: dict[str, Any] = {"outcome": outcome, "vote": vote.pk if vote else None}
    if outcome == Outcome.FIX_REQUIRED:
        revision = rounds.round_phase(round, schedules.REVISION)
        closes_at = revision.ends_at if revision and revision.ends_at > at else at + dt.timedelta(days=7)
        window = submission.fix_windows.create(
            opens_at=at,
            closes_at=closes_at,
            reason=f"Objection {objection.pk}: {objection.summary}",
            opened_by=objection.decided_by,
        )
        data["fix_window_closes_at"] = window.closes_at.isoformat()
    elif outcome == Outcome.WITHDRAWN and not Withdrawal.objects.filter(submission=submission).exists():
        Withdrawal.objects.create(
            submission=submission,
            reason=f"Decision on objection {objection.pk}: {note or objection.summary}",
            withdrawn_by=objection.decided_by,
            withdrawn_at=at,
            objection=objection,
        )
    elif outcome == Outcome.MOVED_OPEN and submission.division != Submission.Division.OPEN:
        if Submission.objects.filter(round=round, organisation=submission.organisation, division="open").exists():
            raise ValidationError({"outcome": f"{submission.organisation} already has an open-division submission."})
        data["division"] = [submission.division, Submission.Division.OPEN]
        submission.division = Submission.Division.OPEN
        submission.save(update_fields=["division"])
    elif outcome == Outcome.MOVED_PREVIEW:
        data["category"] = [submission.category, Submission.Category.PREVIEW]
        submission.category = Submission.Category.PREVIEW
        submission.save(update_fields=["category"])
    audit_record(
        actor=objection.decided_by,
        action="review.objection_decided",
        target=objection,
        organisation=submission.organisation,
        ip_address=ip_address,
        reason=note,
        data=data,
    )
    _notify(
        submission,
        parties_of(objection),
        f"Decision on objection {objection.pk}: {objection.get_outcome_display()}",
        f"The objection “{objection.summary}” against {submission} was decided: "
        f"{objection.get_outcome_display()}.\n{note}\n\n{_objection_link(objection)}\n",
    )
    return objection


@transaction.atomic
def objection_close(
    *, actor: User, objection: Objection, note: str = "", at: dt.datetime | None = None, ip_address: str | None = None
) -> Objection:
    """A chair closes a decided objection (fix confirmed) or one nobody stands behind."""
    at = at or timezone.now()
    objection = Objection.objects.select_for_update().get(pk=objection.pk)
    if not permissions.is_review_chair(actor, objection.round):
        raise PermissionDenied("Only the round's chairs and staff close objections.")
    if objection.state in (Objection.State.CLOSED, Objection.State.WITHDRAWN):
        raise PermissionDenied(f"The objection is already {objection.get_state_display().lower()}.")
    objection.state = Objection.State.CLOSED
    objection.closed_at = at
    objection.save(update_fields=["state", "closed_at"])
    audit_record(
        actor=actor,
        action="review.objection_closed",
        target=objection,
        organisation=objection.submission.organisation,
        ip_address=ip_address,
        reason=note,
    )
    _notify(
        objection.submission,
        parties_of(objection),
        f"Objection {objection.pk} closed",
        f"The objection “{objection.summary}” was closed.\n{note}\n\n{_objection_link(objection)}\n",
    )
    return objection


# ---------------------------------------------------------------- review assignments


def round_result_counts(round: Round) -> dict[int, int]:
    """Results (scored system × benchmark) of each submitting organisation's counting versions."""
    counts: dict[int, int] = {}
    for submission in Submission.objects.filter(round=round, versions__in_time=True).distinct():
        version = submission_selectors.official_version(submission)
        n = Score.objects.filter(version=version).count() if version else 0
        n += InferenceScore.objects.filter(version=version).count() if version else 0
        counts[submission.organisation_id] = counts.get(submission.organisation_id, 0) + n
    return counts


@transaction.atomic
def review_assignments_make(*, actor: User, round: Round, at: dt.datetime | None = None) -> list[ReviewAssignment]:
    """Pair the submitting organisations by result count (MLPerf's required reviews). Existing
    assignments are kept; only missing pairs are added, so running it twice adds nothing."""
    at = at or timezone.now()
    if not permissions.is_review_chair(actor, round):
        raise PermissionDenied("Only the round's chairs and staff assign reviews.")
    counts = round_result_counts(round)
    names = dict(Organisation.objects.filter(pk__in=counts).values_list("pk", "name"))
    by_name = {names[pk]: pk for pk in counts}
    pairs = pairing.review_pairs({names[pk]: n for pk, n in counts.items()})
    created = []
    for reviewer, reviewed in pairs:
        assignment, new = ReviewAssignment.objects.get_or_create(
            round=round, reviewer_id=by_name[reviewer], reviewed_id=by_name[reviewed], defaults={"assigned_at": at}
        )
        if new:
            created.append(assignment)
    audit_record(
        actor=actor,
        action="review.assignments_made",
        target=round,
        data={"pairs": [list(p) for p in pairs], "added": len(created)},
    )
    return created


@transaction.atomic
def review_mark_done(*, actor: User, assignment: ReviewAssignment, at: dt.datetime | None = None) -> ReviewAssignment:
    at = at or timezone.now()
    if not permissions.acts_for(actor, assignment.reviewer) and not permissions.is_review_chair(
        actor, assignment.round
    ):
        raise PermissionDenied("Only the reviewing organisation (or a chair) marks its review done.")
    if assignment.done_at is None:
        ReviewAssignment.objects.filter(pk=assignment.pk, done_at=None).update(done_at=at, done_by=actor)
        assignment.refresh_from_db()
        audit_record(actor=actor, action="review.review_done", target=assignment, organisation=assignment.reviewer)
    return assignment


# ---------------------------------------------------------------- votes


def _slug(label: str, n: int) -> str:
    return (re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")[:30] or "option") + f"-{n}"


@transaction.atomic
def vote_open(
    *,
    actor: User,
    round: Round,
    question: str,
    options: Sequence[tuple[str, str]],
    closes_at: dt.datetime,
    objection: Objection | None = None,
    seed: int | None = None,
    at: dt.datetime | None = None,
) -> Vote:
    """A vote of the submitting organisations. `options` are (label, outcome or ""); the seed of
    the random tie-break and the tie-break order are fixed now, before anyone votes."""
    at = at or timezone.now()
    if not permissions.is_review_chair(actor, round):
        raise PermissionDenied("Only the round's chairs and staff open votes.")
    errors = {}
    if not question.strip():
        errors["question"] = "Ask the question the organisations vote on."
    cleaned = [(label.strip(), outcome) for label, outcome in options if label.strip()]
    if len(cleaned) < 2:
        errors["options"] = "A vote needs at least two options."
    elif len({label for label, _ in cleaned}) != len(cleaned):
        errors["options"] = "Each option needs its own label."
    bad = [o for _, o in cleaned if o and o not in Outcome.values]
    if bad:
        errors["options"] = f"Unknown outcomes: {', '.join(bad)}."
    if closes_at <= at:
        errors["closes_at"] = "The vote must close in the future."
    if objection is not None and objection.round_id != round.pk:
        errors["objection"] = "The objection belongs to another round."
    if errors:
        raise ValidationError(errors)
    vote = Vote.objects.create(
        round=round,
        objection=objection,
        question=question.strip(),
        opened_by=actor,
        opened_at=at,
        closes_at=closes_at,
        seed=seed if seed is not None else secrets.randbits(62),
    )
    made = [
        VoteOption.objects.create(vote=vote, key=_slug(label, n), label=label, outcome=outcome, position=n)
        for n, (label, outcome) in enumerate(cleaned, 1)
    ]
    order = RoundReview.objects.get_or_create(round=round)[0].tie_break_order
    rank = {outcome: i for i, outcome in enumerate(order)}
    vote.tie_break_order = [
        o.key for o in sorted((o for o in made if o.outcome in rank), key=lambda o: (rank[o.outcome], o.position))
    ]
    vote.save(update_fields=["tie_break_order"])
    audit_record(
        actor=actor,
        action="review.vote_opened",
        target=vote,
        data={
            "options": [o.key for o in made],
            "seed": vote.seed,
            "closes_at": closes_at.isoformat(),
            "tie_break_order": vote.tie_break_order,
        },
    )
    return vote


@transaction.atomic
def ballot_cast(
    *, actor: User, vote: Vote, ranking: Sequence[str], at: dt.datetime | None = None, ip_address: str | None = None
) -> Ballot:
    """One open ballot per submitting organisation, while the vote is open; never changed."""
    at = at or timezone.now()
    vote = Vote.objects.select_for_update(of=("self",)).select_related("round__group").get(pk=vote.pk)
    organisation = permissions.submitting_organisation_of(actor, vote.round)
    if organisation is None:
        raise PermissionDenied("Only submitters and primary contacts of organisations that submitted vote.")
    if vote.state != Vote.State.OPEN or at >= vote.closes_at:
        raise PermissionDenied(f"The vote closed on {vote.closes_at:%d %b %Y %H:%M} UTC; no more ballots.")
    existing = Ballot.objects.filter(vote=vote, organisation=organisation).select_related("cast_by").first()
    if existing is not None:
        who = existing.cast_by.email if existing.cast_by else "someone"
        raise PermissionDenied(
            f"{organisation} already voted ({who}, {existing.cast_at:%d %b %Y %H:%M} UTC); one ballot per organisation."
        )
    keys = [o.key for o in vote.options.all()]
    ranking = [str(k) for k in ranking if str(k)]
    if not ranking:
        raise ValidationError({"ranking": "Choose an option."})
    if len(keys) == 2:
        ranking = ranking[:1]
    unknown = [k for k in ranking if k not in keys]
    if unknown or len(set(ranking)) != len(ranking):
        raise ValidationError({"ranking": f"Rank each option at most once, from: {', '.join(keys)}."})
    try:
        with transaction.atomic():
            ballot = Ballot.objects.create(
                vote=vote, organisation=organisation, cast_by=actor, cast_at=at, ranking=ranking
            )
    except IntegrityError:
        raise PermissionDenied(f"{organisation} already voted; one ballot per organisation.") from None
    audit_record(
        actor=actor,
        action="review.ballot_cast",
        target=vote,
        organisation=organisation,
        ip_address=ip_address,
        data={"ranking": ranking},
    )
    return ballot


def vote_count(vote: Vote) -> tally.Tally:
    """The tally of the ballots so far (open ballots: anyone who sees the vote sees it)."""
    keys = [o.key for o in vote.options.all()]
    ballots = [b.ranking for b in vote.ballots.all()]
    return tally.tally(keys, ballots, tie_break=vote.tie_break_order, seed=vote.seed)


@transaction.atomic
def vote_close(*, actor: User, vote: Vote, at: dt.datetime | None = None) -> Vote:
    """Count and record the winner; a vote on an objection decides it with the winner's outcome."""
    at = at or timezone.now()
    vote = Vote.objects.select_for_update(of=("self",)).select_related("round__group", "objection").get(pk=vote.pk)
    if not permissions.is_review_chair(actor, vote.round):
        raise PermissionDenied("Only the round's chairs and staff close votes.")
    if vote.state == Vote.State.CLOSED:
        return vote
    result = vote_count(vote)
    winner = vote.options.filter(key=result.winner).first() if result.winner else None
    Vote.objects.filter(pk=vote.pk).update(
        state=Vote.State.CLOSED, closed_at=at, winner=winner, result=result.as_dict()
    )
    vote.refresh_from_db()
    audit_record(actor=actor, action="review.vote_closed", target=vote, data=result.as_dict())
    objection = vote.objection
    if objection is not None and winner is not None and winner.outcome and objection.state in Objection.OPEN_STATES:
        objection_decide(
            actor=actor,
            objection=objection,
            outcome=winner.outcome,
            note=f"Decided by vote {vote.pk}: {winner.label}.",
            vote=vote,
            at=at,
        )
    return vote


# ---------------------------------------------------------------- withdrawals


@transaction.atomic
def submission_withdraw(
    *, actor: User, submission: Submission, reason: str, at: dt.datetime | None = None, ip_address: str | None = None
) -> Withdrawal:
    """Until the revision deadline (MLPerf: the final opportunity to withdraw) the submitter (or a
    chair) withdraws a submission: it is not published. Nothing is deleted."""
    at = at or timezone.now()
    submission = (
        Submission.objects.select_for_update(of=("self",))
        .select_related("round__group", "organisation")
        .get(pk=submission.pk)
    )
    if not can_view_submission(actor, submission, at):
        raise PermissionDenied("No such submission (or you may not see it).")
    if not permissions.can_withdraw(actor, submission):
        raise PermissionDenied(f"Only submitters and primary contacts of {submission.organisation} withdraw it.")
    round = submission.round
    revision = rounds.round_phase(round, schedules.REVISION)
    deadline = revision.ends_at if revision else rounds.round_deadline_with_grace(round)
    if deadline is None or at >= deadline or Publication.objects.filter(round=round).exists():
        when = f" ({deadline:%d %b %Y %H:%M} UTC)" if deadline else ""
        raise PermissionDenied(f"The revision deadline{when} has passed; results can no longer be withdrawn.")
    if Withdrawal.objects.filter(submission=submission).exists():
        raise PermissionDenied("This submission is already withdrawn.")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the submission is withdrawn; the review committee sees it."})
    withdrawal = Withdrawal.objects.create(
        submission=submission, reason=reason.strip(), withdrawn_by=actor, withdrawn_at=at
    )
    audit_record(
        actor=actor,
        action="review.submission_withdrawn",
        target=submission,
        organisation=submission.organisation,
        ip_address=ip_address,
        reason=reason,
    )
    _notify(
        submission,
        [submission.organisation],
        f"{submission} withdrawn",
        f"{submission} was withdrawn from {round.name}: {reason.strip()}\n",
    )
    return withdrawal


# ---------------------------------------------------------------- publication


def record_version(round: Round) -> str:
    """The prefix of the round's result IDs: "5.1" for "Training v5.1", "inference-5.1" for "Inference
    v5.1" (result IDs are unique across suites), the round's slug when another round has the prefix."""
    found = re.search(r"v?(\d+(?:\.\d+)+)", round.name) or re.search(r"(\d+(?:[.-]\d+)+)", round.slug)
    if not found:
        return round.slug
    prefix = found.group(1).replace("-", ".")
    if round.suite != Round.Suite.TRAINING:
        prefix = f"{round.suite}-{prefix}"
    if Publication.objects.filter(record_version=prefix).exclude(round=round).exists():
        return round.slug
    return prefix


def _system_descriptions(version: SubmissionVersion) -> tuple[str, dict[str, dict[str, Any]]]:
    root = submission_services.version_package_root(version)
    if root is None:
        return "", {}
    descs = {}
    for path in sorted((root / "systems").glob("*.json")) if (root / "systems").is_dir() else []:
        try:
            descs[path.stem] = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            descs[path.stem] = {}
    return root.name, descs


def publishable_versions(round: Round) -> list[SubmissionVersion]:
    """The counting version of every submission that is not withdrawn and whose checks passed."""
    out = []
    for submission in Submission.objects.filter(round=round, withdrawal__isnull=True).select_related("organisation"):
        version = submission_selectors.official_version(submission)
        if version is not None and version.verdict == SubmissionVersion.Verdict.PASSED:
            out.append(version)
    return out


def publication_waits_for(round: Round) -> list[SubmissionVersion]:
    """Counting versions whose checks are still running: publication waits for them."""
    out = []
    for submission in Submission.objects.filter(round=round, withdrawal__isnull=True):
        version = submission_selectors.official_version(submission)
        if version is not None and version.verdict == SubmissionVersion.Verdict.PENDING:
            out.append(version)
    return out


def round_publish(*, round: Round, actor: User | None = None, at: dt.datetime | None = None) -> Publication | None:
    """Freeze the round: each counting version's systems become published results with stable IDs
    (<record version>-NNNN, in the order division, organisation, system). Run twice, publishes once.
    While a counting version's checks still run, nothing is published (None): the next run tries again."""
    at = at or timezone.now()
    with transaction.atomic():
        locked = Round.objects.select_for_update().get(pk=round.pk)
        existing = Publication.objects.filter(round=locked).first()
        if existing is not None:
            return existing
        if publication_waits_for(locked):
            return None
        prefix = record_version(locked)
        phase = rounds.round_phase(locked, schedules.PUBLICATION)
        moment = phase.starts_at if phase is not None and phase.starts_at <= at else at
        rows = []
        for version in publishable_versions(locked):
            submission = version.submission
            folder, descs = _system_descriptions(version)
            decided = set(
                Objection.objects.filter(submission=submission, state__in=["decided", "closed"]).values_list(
                    "outcome", flat=True
                )
            )
            scores: dict[str, list[Score | InferenceScore]] = {}
            found: list[Score | InferenceScore] = [*version.scores.all(), *version.inference_scores.all()]
            for score in found:
                scores.setdefault(score.system, []).append(score)
            for system, items in scores.items():
                facts = system_facts(descs.get(system, {}))
                # The engine's summarizer columns, where its scores check recorded them (the one source).
                engine = next((i for i in items if isinstance(i, Score) and i.system_name), None)
                if engine is not None:
                    facts.update(
                        system_name=engine.system_name,
                        accelerator=engine.accelerator,
                        accelerator_count=engine.accelerator_count,
                    )
                facts["division"] = facts["division"] or submission.division
                if isinstance(items[0], InferenceScore):  # checked as the division's folder it was uploaded to
                    facts["division"] = items[0].division or submission.division
                if Outcome.MOVED_OPEN in decided:
                    facts["division"] = Submission.Division.OPEN
                if Outcome.MOVED_PREVIEW in decided:
                    facts["availability"] = Submission.Category.PREVIEW.label
                facts["availability"] = facts["availability"] or submission.get_category_display()
                rows.append(
                    (submission, version, folder or submission.organisation.results_folder, system, facts, items)
                )
        rows.sort(key=lambda r: (r[4]["division"], r[0].organisation.name.casefold(), r[3]))
        publication = Publication.objects.create(
            round=locked, published_at=moment, frozen_at=at, run_by=actor, record_version=prefix, result_count=len(rows)
        )
        for n, (submission, version, folder, system, facts, items) in enumerate(rows, 1):
            result = PublishedResult.objects.create(
                round=locked,
                result_id=f"{prefix}-{n:04d}",
                position=n,
                submission=submission,
                version=version,
                version_sha256=version.sha256,
                organisation=submission.organisation,
                organisation_name=submission.organisation.name,
                submitter_folder=folder,
                system=system,
                published_at=moment,
                **facts,
            )
            PublishedScore.objects.bulk_create(published_score(result, s) for s in items)
        published_details_record(round=locked)  # the explorer's details (submissions/results/)
        Objection.objects.filter(round=locked, state__in=Objection.OPEN_STATES).update(
            state=Objection.State.CLOSED, closed_at=at
        )
        audit_record(
            actor=actor,
            action="review.round_published",
            target=locked,
            data={"results": len(rows), "first": f"{prefix}-0001" if rows else None},
        )
    return publication


def published_score(result: PublishedResult, score: Score | InferenceScore) -> PublishedScore:
    """The published record's row of a score: a training or HPC time to train in minutes; an
    inference score with its units, under the benchmark ``<model>/<scenario>``."""
    if isinstance(score, InferenceScore):
        return PublishedScore(result=result, benchmark=score.benchmark[:100], score=score.value, units=score.units)
    return PublishedScore(result=result, benchmark=score.benchmark, scaling=score.scaling, score=score.minutes)


def rounds_publish_due(*, at: dt.datetime | None = None) -> list[Publication]:
    """Beat: publish every round whose publication moment has passed and that is not yet published."""
    at = at or timezone.now()
    due = Round.objects.filter(
        published=True, phases__kind=schedules.PUBLICATION, phases__starts_at__lte=at, publication__isnull=True
    ).distinct()
    published = [round_publish(round=r, at=at) for r in due]
    return [p for p in published if p is not None]


CORRECTABLE = ("system_name", "accelerator", "accelerator_count", "nodes", "framework", "availability", "division")


@transaction.atomic
def result_correct(
    *, actor: User, result: PublishedResult, field: str, new_value: str, reason: str, at: dt.datetime | None = None
) -> Correction:
    """A recorded change to a published result (a field, or "score:<benchmark>"); the ID stays."""
    at = at or timezone.now()
    if not permissions.is_review_chair(actor, result.round):
        raise PermissionDenied("Only the round's chairs and staff correct published results.")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the published result is corrected."})
    result = PublishedResult.objects.select_for_update().get(pk=result.pk)
    if field.startswith("score:"):
        score = result.scores.filter(benchmark=field.removeprefix("score:"), scaling="strong").first()
        if score is None:
            raise ValidationError({"field": f"{result.result_id} has no score for {field.removeprefix('score:')}."})
        try:
            value: Any = float(new_value)
        except ValueError:
            raise ValidationError({"new_value": "A score is a number of minutes."}) from None
        old = score.score
        PublishedScore.objects.filter(pk=score.pk).update(score=value)
    elif field in CORRECTABLE:
        old = getattr(result, field)
        value = new_value
        if field in ("accelerator_count", "nodes"):
            try:
                value = int(new_value)
            except ValueError:
                raise ValidationError({"new_value": f"{field} is a whole number."}) from None
        PublishedResult.objects.filter(pk=result.pk).update(**{field: value})
    else:
        raise ValidationError({"field": f"Correct one of: {', '.join(CORRECTABLE)}, or score:<benchmark>."})
    correction = Correction.objects.create(
        result=result,
        field=field,
        old_value=str(old),
        new_value=str(value),
        reason=reason.strip(),
        corrected_by=actor,
        corrected_at=at,
    )
    audit_record(
        actor=actor,
        action="review.result_corrected",
        target=result,
        reason=reason,
        data={"field": field, "old": str(old), "new": str(value)},
    )
    return correction


@transaction.atomic
def round_tie_break_set(*, actor: User, round: Round, order: Sequence[str]) -> RoundReview:
    """The round's fixed tie-break order of outcomes, set by the chairs before the first vote; once a
    vote has opened it is fixed (each vote also keeps the order it opened with)."""
    if not permissions.is_review_chair(actor, round):
        raise PermissionDenied("Only the round's chairs and staff set the tie-break order.")
    if Vote.objects.filter(round=round).exists():
        raise PermissionDenied("A vote has opened in this round: its tie-break order is fixed.")
    cleaned = [o.strip() for o in order if o.strip()]
    unknown = [o for o in cleaned if o not in Outcome.values]
    if unknown or not cleaned or len(set(cleaned)) != len(cleaned):
        raise ValidationError(
            {
                "order": f"List each outcome once, first wins, from: {', '.join(Outcome.values)}."
                + (f" Unknown: {', '.join(unknown)}." if unknown else "")
            }
        )
    review, _ = RoundReview.objects.select_for_update().get_or_create(round=round)
    old = review.tie_break_order
    review.tie_break_order = cleaned
    review.save(update_fields=["tie_break_order"])
    audit_record(actor=actor, action="review.tie_break_set", target=round, data={"old": old, "new": cleaned})
    return review
