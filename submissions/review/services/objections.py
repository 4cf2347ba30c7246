"""Objections: filed, answered, withdrawn, decided and closed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from consortium.audit.services import audit_record
from consortium.common.mail import site_link
from consortium.members.models import Organisation, User
from consortium.members.permissions import Viewer
from submissions import selectors as submission_selectors
from submissions import services as submission_services
from submissions.models import Submission, SubmissionVersion
from submissions.permissions import can_view_submission
from submissions.review import permissions
from submissions.review.models import (
    Objection,
    ObjectionEvidence,
    ObjectionResponse,
    Outcome,
    Vote,
    Withdrawal,
)
from submissions.review.services.phases import _notify, phase_refusal
from workinggroups import schedules
from workinggroups import selectors as rounds

MAX_EVIDENCE = 20
EXCERPT_CHARS = 500


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
