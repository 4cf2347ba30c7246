"""What the package checks need from a result file, collected in the same pass as its rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .logparse import LogLine


@dataclass(slots=True)
class FileFacts:
    """What package checks need from a file, collected in the same pass."""

    seeds: list[tuple[Any, Any, int]] = field(default_factory=list)
    seed_error: str | None = None
    run_start: float | None = None
    run_stop: float | None = None
    # the raw values the result summarizer's _query_instance_scale finds (hpc weak scaling)
    number_of_nodes: Any = None
    accelerators_per_node: Any = None
    rcp: Any = None  # an rcp.RcpReader when asked for
    benchmark: Any = None


def _collect(facts: FileFacts, rec: LogLine) -> None:
    key = rec.key
    # the result summarizer: run_start/run_stop as its loop finds them
    if facts.run_start is None or facts.run_stop is None:
        if key == "run_start":
            facts.run_start = rec.timestamp
        if key == "run_stop":
            facts.run_stop = rec.timestamp
    # _query_instance_scale (hpc weak scaling): the same loop over number_of_nodes and
    # accelerators_per_node (a null value does not count as found); values are kept raw, the
    # score applies int() to them as the summarizer does. (0.6.0 values are not records.)
    if (
        (key == "number_of_nodes" or key == "accelerators_per_node")
        and (facts.number_of_nodes is None or facts.accelerators_per_node is None)
        and type(rec.value) is dict
    ):
        if key == "number_of_nodes":
            facts.number_of_nodes = rec.value["value"]
        else:
            facts.accelerators_per_node = rec.value["value"]
    if key == "seed" and facts.seed_error is None:
        # the seed checker's tuple (metadata file, metadata lineno, int(value)); anything raising
        # there is an error for this file
        try:
            v = rec.value
            facts.seeds.append((v["metadata"]["file"], v["metadata"]["lineno"], int(v["value"])))
        except Exception as exc:
            facts.seed_error = f"the seed record on line {rec.line} is unusable: {exc!r}"
