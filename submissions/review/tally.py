"""Counting a vote of the review committee: pure functions, no Django, no database.

The MLPerf submission rules (mlcommons/policies, submission_rules.adoc, "Agenda and decisions"):
each submitting organisation casts at most one vote; with two outcomes a simple majority decides;
with more, a Condorcet poll completed by the minimax rule; votes are open. A tie is broken by the
round's fixed tie-break order (the rules' non-submitting chairs, decided before the review and
written down as an order of outcomes), then by a random number generator whose seed is recorded, so
that anyone can recount and get the same winner.

A ballot is a ranking: option keys, most preferred first. With two options only its first choice
counts. Options a ballot leaves out rank below every option it names, equal among themselves.

Minimax here is the "winning votes" variant: an option's score is its worst pairwise defeat (the
number of ballots preferring the other option in a pairwise contest it loses, 0 when it loses none);
the lowest score wins. A Condorcet winner (beats every other option) always has score 0 and wins.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

MAJORITY = "majority"
MINIMAX = "condorcet-minimax"


class TallyError(ValueError):
    """A vote that cannot be counted (fewer than two options, a ballot naming an unknown option)."""


@dataclass(frozen=True)
class Tally:
    winner: str | None  # None when nobody voted
    method: str
    first_choices: dict[str, int]  # how many ballots put each option first
    pairwise: dict[str, dict[str, int]] = field(default_factory=dict)  # pairwise[a][b]: ballots with a above b
    scores: dict[str, int] = field(default_factory=dict)  # minimax score (worst defeat), lower is better
    tied: tuple[str, ...] = ()  # the options tied for first before the tie-break
    tie_broken_by: str = ""  # "", "order" or "random"
    seed: int | None = None
    ballots: int = 0

    def as_dict(self) -> dict:
        return {
            "winner": self.winner,
            "method": self.method,
            "first_choices": self.first_choices,
            "pairwise": self.pairwise,
            "scores": self.scores,
            "tied": list(self.tied),
            "tie_broken_by": self.tie_broken_by,
            "seed": self.seed,
            "ballots": self.ballots,
        }


def _validate(options: Sequence[str], ballots: Sequence[Sequence[str]]) -> None:
    if len(options) < 2:
        raise TallyError("A vote needs at least two options.")
    if len(set(options)) != len(options):
        raise TallyError("Options must be distinct.")
    known = set(options)
    for n, ballot in enumerate(ballots, 1):
        if not ballot:
            raise TallyError(f"Ballot {n} ranks no option.")
        unknown = [o for o in ballot if o not in known]
        if unknown:
            raise TallyError(f"Ballot {n} names options that are not on this vote: {', '.join(unknown)}.")
        if len(set(ballot)) != len(ballot):
            raise TallyError(f"Ballot {n} names an option twice.")


def break_tie(tied: Sequence[str], tie_break: Sequence[str], seed: int) -> tuple[str, str]:
    """(winner, how): the first of `tied` in the fixed order; if none of them is in it, a draw
    among them (sorted, so the draw depends on the seed only) with `random.Random(seed)`."""
    for key in tie_break:
        if key in tied:
            return key, "order"
    return random.Random(seed).choice(sorted(tied)), "random"


def _pairwise(options: Sequence[str], ballots: Sequence[Sequence[str]]) -> dict[str, dict[str, int]]:
    d = {a: {b: 0 for b in options if b != a} for a in options}
    for ballot in ballots:
        rank = {o: i for i, o in enumerate(ballot)}
        below = len(ballot)
        for a in options:
            for b in options:
                if a != b and rank.get(a, below) < rank.get(b, below):
                    d[a][b] += 1
    return d


def tally(
    options: Sequence[str], ballots: Sequence[Sequence[str]], *, tie_break: Sequence[str] = (), seed: int = 0
) -> Tally:
    """Count `ballots` over `options` (keys). Pure: the same input gives the same result."""
    _validate(options, ballots)
    first = {o: 0 for o in options}
    for ballot in ballots:
        first[ballot[0]] += 1
    if not ballots:
        method = MAJORITY if len(options) == 2 else MINIMAX
        return Tally(winner=None, method=method, first_choices=first, seed=seed)
    if len(options) == 2:
        best = max(first.values())
        tied = tuple(o for o in options if first[o] == best)
        winner, how = (tied[0], "") if len(tied) == 1 else break_tie(tied, tie_break, seed)
        return Tally(
            winner=winner, method=MAJORITY, first_choices=first, tied=tied if len(tied) > 1 else (),
            tie_broken_by=how, seed=seed, ballots=len(ballots),
        )  # fmt: skip
    d = _pairwise(options, ballots)
    scores = {a: max((d[b][a] for b in options if b != a and d[b][a] > d[a][b]), default=0) for a in options}
    best = min(scores.values())
    tied = tuple(o for o in options if scores[o] == best)
    winner, how = (tied[0], "") if len(tied) == 1 else break_tie(tied, tie_break, seed)
    return Tally(
        winner=winner, method=MINIMAX, first_choices=first, pairwise=d, scores=scores,
        tied=tied if len(tied) > 1 else (), tie_broken_by=how, seed=seed, ballots=len(ballots),
    )  # fmt: skip
