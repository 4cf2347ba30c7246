"""Uploads: the limits and windows that refuse one, the version it records, fix windows."""

from __future__ import annotations

import datetime as dt
import os
from typing import IO

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from consortium.audit.services import audit_record
from consortium.members.models import Organisation, User
from submissions.models import (
    CheckKind,
    CheckRun,
    FixWindow,
    Submission,
    SubmissionVersion,
    UploadLimit,
)
from submissions.permissions import can_open_fix_window, upload_refusal
from submissions.services.dispatch import run_create
from submissions.storage import (
    StoredUpload,
    archive_placed,
    archive_receive,
    name_refusal,
)
from workinggroups import selectors as rounds
from workinggroups.models import Round

State = CheckRun.State


# ---------------------------------------------------------------- uploads


def _upload_day_start(round: Round, now: dt.datetime) -> dt.datetime:
    local = now.astimezone(round.tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def upload_limit_for(round: Round, organisation: Organisation) -> int:
    row = (
        UploadLimit.objects.filter(round=round)
        .filter(Q(organisation=organisation) | Q(organisation=None))
        .order_by("organisation")  # the organisation's own row first (NULLs sort last)
        .first()
    )
    return row.per_day if row else settings.SUBMISSION_UPLOADS_PER_DAY


def uploads_today(round: Round, organisation: Organisation, now: dt.datetime) -> int:
    """Uploads counted against the daily limit: not those the portal itself failed to check."""
    return (
        SubmissionVersion.objects.filter(
            submission__round=round,
            submission__organisation=organisation,
            uploaded_at__gte=_upload_day_start(round, now),
        )
        .exclude(check_runs__kind=CheckKind.UNPACK, check_runs__state=State.ERRORED)
        .count()
    )


def upload_window_refusal(round: Round, submission: Submission | None, now: dt.datetime) -> str | None:
    if rounds.round_submission_window_open(round, now):
        return None
    if submission is not None and any(w.is_open(now) for w in submission.fix_windows.all()):
        return None
    deadline = rounds.round_deadline_with_grace(round)
    if deadline is not None and now >= deadline:
        local = deadline.astimezone(round.tz)
        return (
            f"The submission window of {round} closed at {local:%Y-%m-%d %H:%M} {local.tzname()} "
            "(deadline plus grace period). A chair can open a fix window for your submission."
        )
    return f"The submission window of {round} is not open."


def submission_upload(
    *,
    round: Round,
    organisation: Organisation,
    division: str,
    category: str,
    archive: IO[bytes] | StoredUpload,
    original_name: str,
    actor: User | None,  # None: seeding, with enforce_rules=False
    source: str,
    ip_address: str | None = None,
    now: dt.datetime | None = None,
    enforce_rules: bool = True,
) -> SubmissionVersion:
    """A new immutable version of the organisation's submission to `round`, queued for checking.

    No transaction is open while the bytes arrive: the rules are checked first (cheap reads), the
    archive streams into the store's incoming/ folder with its size and type checked as it comes
    (or arrives already streamed, from ArchiveUploadHandler), and the version is then recorded in one
    short transaction that checks the rules again under the submission's lock. A refused or failed
    upload leaves nothing in the store."""
    now = now or timezone.now()
    name = os.path.basename(original_name or "").strip()
    try:
        _upload_check(round, organisation, division, category, name, actor, now, enforce_rules, locked=False)
        upload = archive if isinstance(archive, StoredUpload) else archive_receive(archive, name=name)
    except BaseException:
        if isinstance(archive, StoredUpload):
            archive.discard()
        raise
    try:
        with archive_placed(upload):
            return _version_record(
                round=round, organisation=organisation, division=division, category=category, name=name,
                upload=upload, actor=actor, source=source, ip_address=ip_address, now=now,
                enforce_rules=enforce_rules,
            )  # fmt: skip
    finally:
        upload.discard()  # when the same bytes were stored already, or the record failed


def _upload_check(
    round: Round, organisation: Organisation, division: str, category: str, name: str, actor: User | None,
    now: dt.datetime, enforce_rules: bool, *, locked: bool, submission: Submission | None = None,
) -> None:  # fmt: skip
    if enforce_rules:
        refusal = upload_refusal(actor or AnonymousUser(), round, organisation)
        if refusal:
            raise PermissionDenied(refusal)
    errors: dict[str, str] = {}
    if division not in Submission.Division.values or (round.divisions and division not in round.divisions):
        allowed = ", ".join(round.divisions or Submission.Division.values)
        errors["division"] = f"Choose a division of this round: {allowed}."
    if category not in Submission.Category.values:
        errors["category"] = "Choose an availability category."
    refusal = name_refusal(name)
    if refusal:
        errors["archive"] = refusal
    if errors:
        raise ValidationError(errors)
    if not enforce_rules:
        return
    if not locked:
        submission = (
            Submission.objects.filter(round=round, organisation=organisation, division=division)
            .prefetch_related("fix_windows")
            .first()
        )
    refusal = upload_window_refusal(round, submission, now)
    if refusal:
        raise ValidationError(refusal)
    limit = upload_limit_for(round, organisation)
    if uploads_today(round, organisation, now) >= limit:
        raise ValidationError(
            f"{organisation} has used its {limit} uploads for today in {round}; try again tomorrow "
            f"(uploads the portal failed to check do not count)."
        )


@transaction.atomic
def _version_record(
    *, round: Round, organisation: Organisation, division: str, category: str, name: str, upload: StoredUpload,
    actor: User | None, source: str, ip_address: str | None, now: dt.datetime, enforce_rules: bool,
) -> SubmissionVersion:  # fmt: skip
    submission = (
        Submission.objects.select_for_update()
        .filter(round=round, organisation=organisation, division=division)
        .prefetch_related("fix_windows")
        .first()
    )
    if enforce_rules:  # again, under the lock: the window or the daily limit may have moved meanwhile
        _upload_check(round, organisation, division, category, name, actor, now, True, locked=True,
                      submission=submission)  # fmt: skip
    if submission is None:
        submission = Submission.objects.create(
            round=round, organisation=organisation, division=division, category=category, created_by=actor
        )
        submission = Submission.objects.select_for_update().get(pk=submission.pk)
    elif submission.category != category:
        submission.category = category
        submission.save(update_fields=["category"])
    number = (submission.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    version = SubmissionVersion.objects.create(
        submission=submission,
        number=number,
        sha256=upload.sha256,
        size=upload.size,
        original_name=name[:255],
        uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
        uploaded_at=now,
        source=source,
        in_time=not enforce_rules
        or rounds.round_submission_window_open(round, now)
        or any(w.is_open(now) for w in submission.fix_windows.all()),
    )
    audit_record(
        actor=actor, action="submissions.version_uploaded", target=version, organisation=organisation,
        ip_address=ip_address, data={"sha256": upload.sha256, "size": upload.size, "source": source},
    )  # fmt: skip
    run_create(version=version, kind=CheckKind.UNPACK)
    return version


@transaction.atomic
def fix_window_open(
    *, submission: Submission, actor: User, closes_at: dt.datetime, reason: str, ip_address: str | None = None
) -> FixWindow:
    if not can_open_fix_window(actor, submission):
        raise PermissionDenied("Only chairs of the round's working group and staff open fix windows.")
    now = timezone.now()
    if closes_at <= now:
        raise ValidationError({"closes_at": "The fix window must close in the future."})
    if not reason.strip():
        raise ValidationError({"reason": "Say why the fix window is opened; the submitter sees it."})
    window = FixWindow.objects.create(
        submission=submission, opens_at=now, closes_at=closes_at, reason=reason.strip(), opened_by=actor
    )
    audit_record(
        actor=actor, action="submissions.fix_window_opened", target=submission,
        organisation=submission.organisation, ip_address=ip_address, reason=reason,
        data={"closes_at": closes_at.isoformat()},
    )  # fmt: skip
    return window
