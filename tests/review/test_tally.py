"""The vote tally and the reviewer pairs: pure functions, no database."""

import pytest

from submissions.review.pairing import review_pairs, stack_rank
from submissions.review.tally import MAJORITY, MINIMAX, TallyError, break_tie, tally


def test_two_options_simple_majority():
    result = tally(["yes", "no"], [["yes"], ["no"], ["yes"]])
    assert (result.winner, result.method, result.first_choices) == ("yes", MAJORITY, {"yes": 2, "no": 1})
    assert result.tie_broken_by == ""


def test_two_options_count_first_choice_only():
    assert tally(["yes", "no"], [["no", "yes"], ["no"], ["yes", "no"]]).winner == "no"


def test_two_option_tie_broken_by_fixed_order():
    result = tally(["yes", "no"], [["yes"], ["no"]], tie_break=["no", "yes"], seed=1)
    assert (result.winner, result.tie_broken_by, set(result.tied)) == ("no", "order", {"yes", "no"})


def test_tie_outside_the_order_is_drawn_with_the_recorded_seed():
    first = tally(["a", "b"], [["a"], ["b"]], seed=12345)
    again = tally(["b", "a"], [["b"], ["a"]], seed=12345)
    assert first.tie_broken_by == "random" and first.seed == 12345
    assert first.winner == again.winner  # the draw depends on the seed, not on the order of input
    winners = {tally(["a", "b"], [["a"], ["b"]], seed=s).winner for s in range(40)}
    assert winners == {"a", "b"}


def test_condorcet_winner_wins_without_a_majority_of_first_choices():
    # b is everyone's second choice and beats a and c pairwise; a has the most first choices.
    ballots = [["a", "b", "c"]] * 4 + [["c", "b", "a"]] * 3 + [["b", "c", "a"]] * 2
    result = tally(["a", "b", "c"], ballots)
    assert result.method == MINIMAX
    assert result.first_choices == {"a": 4, "b": 2, "c": 3}
    assert result.winner == "b" and result.scores["b"] == 0
    assert result.pairwise["b"]["a"] == 5 and result.pairwise["a"]["b"] == 4


def test_minimax_in_a_cycle_picks_the_smallest_worst_defeat():
    # A cycle: no Condorcet winner.
    ballots = [["a", "b", "c"]] * 5 + [["b", "c", "a"]] * 4 + [["c", "a", "b"]] * 3
    result = tally(["a", "b", "c"], ballots)
    # a beats b 8:4, b beats c 9:3, c beats a 7:5 -> worst defeats a:7, b:8, c:9
    assert result.scores == {"a": 7, "b": 8, "c": 9}
    assert result.winner == "a"


def test_unranked_options_rank_below_ranked_ones():
    result = tally(["a", "b", "c"], [["a"], ["b"], ["a"]])
    assert result.pairwise["a"]["c"] == 2 and result.pairwise["c"]["a"] == 0
    assert result.winner == "a"


def test_minimax_tie_broken_by_order():
    ballots = [["a", "b", "c"], ["b", "c", "a"], ["c", "a", "b"]]  # perfect cycle, all score 2
    result = tally(["a", "b", "c"], ballots, tie_break=["c", "a"], seed=7)
    assert set(result.tied) == {"a", "b", "c"} and result.winner == "c" and result.tie_broken_by == "order"


def test_no_ballots_no_winner():
    assert tally(["a", "b"], []).winner is None


@pytest.mark.parametrize(
    "options, ballots, message",
    [
        (["a"], [], "at least two options"),
        (["a", "b"], [["x"]], "not on this vote: x"),
        (["a", "b"], [["a", "a"]], "names an option twice"),
        (["a", "b"], [[]], "ranks no option"),
    ],
)
def test_bad_votes_are_refused_with_a_reason(options, ballots, message):
    with pytest.raises(TallyError, match=message):
        tally(options, ballots)


def test_break_tie_prefers_the_order():
    assert break_tie(["x", "y"], ["y"], 0) == ("y", "order")


def test_pairs_walk_down_the_stack_rank():
    counts = {"A": 10, "B": 8, "C": 8, "D": 1}
    assert stack_rank(counts) == ["A", "B", "C", "D"]
    assert sorted(review_pairs(counts)) == sorted([("A", "B"), ("B", "A"), ("C", "D"), ("D", "C")])


def test_odd_number_bottom_three_review_each_other():
    pairs = review_pairs({"A": 9, "B": 7, "C": 5, "D": 3, "E": 1})
    assert ("A", "B") in pairs and ("B", "A") in pairs
    trio = {"C", "D", "E"}
    assert {(x, y) for x, y in pairs if x in trio} == {(x, y) for x in trio for y in trio if x != y}
    assert all(x != y for x, y in pairs)


def test_fewer_than_two_submitters_review_nobody():
    assert review_pairs({"A": 3}) == []
