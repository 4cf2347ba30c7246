"""The results explorer (issue 13): every published result of every round, filtered, sorted and
paginated from query parameters, so that a link (or an export) reproduces the view. One row per
published score (a result and a benchmark). Reads only the published record."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from submissions.review.models import PublishedScore

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500

# Filter parameter -> (field of PublishedScore, kind)
FILTERS: dict[str, tuple[str, str]] = {
    "suite": ("result__round__suite", "exact"),
    "round": ("result__round__slug", "exact"),
    "benchmark": ("benchmark", "exact"),
    "division": ("result__division", "iexact"),
    "availability": ("result__availability", "iexact"),
    "organisation": ("result__organisation_name", "iexact"),
    "accelerator": ("result__accelerator", "icontains"),
    "accelerator_count": ("result__accelerator_count", "int"),
    "nodes": ("result__nodes", "int"),
    "framework": ("result__framework", "icontains"),
}
# Sort key -> field; "-key" sorts descending.
SORTS: dict[str, str] = {
    "result_id": "result__result_id",
    "round": "result__round__slug",
    "organisation": "result__organisation_name",
    "system": "result__system_name",
    "nodes": "result__nodes",
    "host_processor": "result__host_processor",
    "accelerator": "result__accelerator",
    "accelerator_count": "result__accelerator_count",
    "framework": "result__framework",
    "division": "result__division",
    "availability": "result__availability",
    "benchmark": "benchmark",
    "score": "score",
}
DEFAULT_SORT = "result_id"
# The table's columns (those MLCommons publishes), in order, with their sort keys.
COLUMNS = [
    ("result_id", "Result ID"), ("round", "Round"), ("organisation", "Organisation"), ("system", "System"),
    ("nodes", "Nodes"), ("host_processor", "Host processor"), ("accelerator", "Accelerator"),
    ("accelerator_count", "Accelerators"), ("framework", "Framework"), ("division", "Division"),
    ("availability", "Availability"), ("benchmark", "Benchmark"), ("score", "Score"),
]  # fmt: skip


@dataclass
class ExplorerView:
    """What the parameters asked for, cleaned, and what was wrong with them (said on the page)."""

    filters: dict[str, str] = field(default_factory=dict)
    q: str = ""
    sort: str = DEFAULT_SORT
    messages: list[str] = field(default_factory=list)

    def query(self, **overrides: str) -> str:
        """The view's query string (without page), with `overrides`; for links and exports."""
        from urllib.parse import urlencode

        params = {**self.filters, **({"q": self.q} if self.q else {}), "sort": self.sort, **overrides}
        return urlencode({k: v for k, v in params.items() if v})


def explorer_view(params: Mapping[str, str]) -> ExplorerView:
    view = ExplorerView()
    for name, (_, kind) in FILTERS.items():
        value = (params.get(name) or "").strip()
        if not value:
            continue
        if kind == "int" and not value.isdigit():
            view.messages.append(
                f"{name.replace('_', ' ').capitalize()} must be a whole number; {value!r} was ignored."
            )
            continue
        view.filters[name] = value[:200]
    view.q = (params.get("q") or "").strip()[:200]
    sort = (params.get("sort") or DEFAULT_SORT).strip()
    if sort.removeprefix("-") not in SORTS:
        view.messages.append(f"Unknown sort {sort!r}; sorted by result ID.")
        sort = DEFAULT_SORT
    view.sort = sort
    return view


def explorer_scores(view: ExplorerView) -> QuerySet[PublishedScore]:
    """The view's rows, in its order (published rounds only: the record exists only after publication)."""
    qs = PublishedScore.objects.filter(result__round__publication__isnull=False).select_related(
        "result__round", "result__version"
    )
    for name, value in view.filters.items():
        path, kind = FILTERS[name]
        qs = qs.filter(
            **{path if kind in ("exact", "int") else f"{path}__{kind}": int(value) if kind == "int" else value}
        )
    if view.q:
        qs = qs.filter(Q(result__system_name__icontains=view.q) | Q(result__system__icontains=view.q))
    key = SORTS[view.sort.removeprefix("-")]
    order = f"-{key}" if view.sort.startswith("-") else key
    return qs.order_by(order, "result__round__slug", "result__position", "benchmark", "pk")


def filter_choices() -> dict[str, list[str]]:
    """The values the select filters offer: what the published record holds."""
    base = PublishedScore.objects.filter(result__round__publication__isnull=False)

    def distinct(path: str) -> list[str]:
        return [v for v in base.order_by(path).values_list(path, flat=True).distinct() if v not in ("", None)]

    return {
        "suite": distinct("result__round__suite"),
        "round": distinct("result__round__slug"),
        "benchmark": distinct("benchmark"),
        "division": distinct("result__division"),
        "availability": distinct("result__availability"),
        "organisation": distinct("result__organisation_name"),
    }


def score_row(s: PublishedScore) -> dict:
    """The API's and the exports' shape of one row (the round results endpoint's fields plus round)."""
    r = s.result
    return {
        "round": r.round.slug,
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
        "host_processor": r.host_processor,
        "host_processor_count": r.host_processor_count,
        "framework": r.framework,
        "version_sha256": r.version_sha256,
    }


EXPORT_COLUMNS = [
    "round", "result_id", "organisation", "submitter_folder", "system", "system_name", "division", "availability",
    "benchmark", "score", "units", "accelerator", "accelerator_count", "nodes", "host_processor",
    "host_processor_count", "framework", "version_sha256",
]  # fmt: skip
