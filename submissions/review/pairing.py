"""Required reviews: who reviews whom. Pure, no Django.

The MLPerf submission rules ("Required reviews"): stack-rank the submitters by their number of
results; assign reviewers in pairs walking down the ranking (1 and 2 review each other, 3 and 4, …);
with an odd number, the bottom three review each other. Ties in the count are ranked by name so the
assignment is the same on every run. (The rules' separate ranking of large-scale training
submissions, 512 accelerators or more, by scale is not applied here.)
"""

from __future__ import annotations

from collections.abc import Mapping


def stack_rank(result_counts: Mapping[str, int]) -> list[str]:
    return sorted(result_counts, key=lambda org: (-result_counts[org], org))


def review_pairs(result_counts: Mapping[str, int]) -> list[tuple[str, str]]:
    """(reviewer, reviewed) pairs. Fewer than two submitters: nobody to review."""
    ranked = stack_rank(result_counts)
    n = len(ranked)
    if n < 2:
        return []
    pairs: list[tuple[str, str]] = []
    paired_until = n if n % 2 == 0 else n - 3
    for i in range(0, paired_until, 2):
        a, b = ranked[i], ranked[i + 1]
        pairs += [(a, b), (b, a)]
    if n % 2:
        trio = ranked[-3:]
        pairs += [(x, y) for x in trio for y in trio if x != y]
    return pairs
