"""Votes: opened, cast, counted and closed."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from consortium.audit.services import audit_record
from consortium.members.models import User
from submissions.review import permissions, tally
from submissions.review.models import (
    Ballot,
    Objection,
    Outcome,
    RoundReview,
    Vote,
    VoteOption,
)
from submissions.review.services.objections import objection_decide
from workinggroups.models import Round

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
