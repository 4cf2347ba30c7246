"""Reads of the results explorer. Everything here is public, and only what is published: a result
appears once its round's record is frozen (a Publication) and the round's publication moment has
passed, the same moment at which `submissions.permissions.can_view_submission` opens a submission to
everyone. Every page, export and API of the explorer goes through `public_scores()`.

The query count of each read is fixed: filters, sorting and pagination are SQL, facets one query
each, charts one aggregate each."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db.models import Case, Count, ExpressionWrapper, F, FloatField, Max, Min, Prefetch, Q, QuerySet, Value, When
from django.http import QueryDict
from django.utils import timezone

from submissions.models import InferenceScore
from submissions.review import selectors as review_selectors
from submissions.review.models import PublishedResult, PublishedScore
from workinggroups import schedules
from workinggroups.models import Round

DERIVED_NOTE = "derived, not an official MLPerf result"
PER_PAGE = 50
TIME_UNITS = ("minutes", "seconds", "hours")
# Units in which a smaller score is better: times to train, and inference latency and energy (an
# inference throughput, samples, queries or tokens per second, is better larger).
LOWER_IS_BETTER = (*TIME_UNITS, *InferenceScore.LOWER_IS_BETTER)


def public_rounds(at: dt.datetime | None = None) -> QuerySet[Round]:
    """Rounds whose record is published and whose publication moment has passed."""
    at = at or timezone.now()
    return Round.objects.filter(
        published=True,
        publication__isnull=False,
        phases__kind=schedules.PUBLICATION,
        phases__starts_at__lte=at,
    )


def public_results(at: dt.datetime | None = None) -> QuerySet[PublishedResult]:
    return PublishedResult.objects.filter(round__in=public_rounds(at).values("pk"))


# The derived metric "per accelerator": for a time to train, accelerator-minutes (time × accelerators,
# lower is better, as the time itself); for a throughput, throughput per accelerator; none for an
# inference latency or energy (a latency is not shared among accelerators).
_times_count = ExpressionWrapper(F("score") * F("result__accelerator_count"), output_field=FloatField())
_per_count = ExpressionWrapper(F("score") / F("result__accelerator_count"), output_field=FloatField())


def public_scores(at: dt.datetime | None = None) -> QuerySet[PublishedScore]:
    """One row per published result and benchmark, with what the table shows, in one query."""
    return (
        PublishedScore.objects.filter(result__round__in=public_rounds(at).values("pk"))
        .select_related("result__round", "result__detail", "result__version", "detail")
        .defer("result__detail__description", "detail__runs")  # wide JSON: only the result page reads them
        .annotate(
            derived=Case(
                When(result__accelerator_count__gt=0, units__in=TIME_UNITS, then=_times_count),
                When(units__in=LOWER_IS_BETTER, then=Value(None, output_field=FloatField())),
                When(result__accelerator_count__gt=0, then=_per_count),
                default=Value(None, output_field=FloatField()),
            ),
            # the score as "best first" sorts it: a time or latency as it is, a throughput negated
            better=Case(
                When(units__in=LOWER_IS_BETTER, then=F("score")),
                default=-F("score"),
                output_field=FloatField(),
            ),
        )
    )


# ---------------------------------------------------------------- filters

# name in the URL → (label, field of PublishedScore it filters, kind)
FILTERS: dict[str, tuple[str, str, str]] = {
    "suite": ("Suite", "result__detail__suite", "text"),
    "round": ("Round", "result__round__slug", "text"),
    "benchmark": ("Benchmark (model)", "detail__model", "text"),
    "scenario": ("Scenario (inference)", "detail__scenario", "text"),
    "division": ("Division", "result__division", "text"),
    "availability": ("Availability", "result__availability", "text"),
    "organisation": ("Organisation", "result__organisation_name", "text"),
    "accelerator": ("Accelerator", "result__accelerator", "text"),
    "accelerator_count": ("Accelerator count", "result__accelerator_count", "int"),
    "nodes": ("Nodes", "result__nodes", "int"),
    "framework": ("Framework", "result__framework", "text"),
}

# name in the URL → (column heading, order_by field); "-<name>" sorts descending
COLUMNS: dict[str, tuple[str, str]] = {
    "result_id": ("Result ID", "result__result_id"),
    "round": ("Round", "result__round__name"),
    "organisation": ("Organisation", "result__organisation_name"),
    "system": ("System", "result__system_name"),
    "nodes": ("Nodes", "result__nodes"),
    "host_processor": ("Host processor", "result__detail__host_processor"),
    "host_processor_count": ("Host processors", "result__detail__host_processor_count"),
    "accelerator": ("Accelerator", "result__accelerator"),
    "accelerator_count": ("Accelerators", "result__accelerator_count"),
    "framework": ("Framework", "result__framework"),
    "division": ("Division", "result__division"),
    "availability": ("Availability", "result__availability"),
    "benchmark": ("Benchmark", "benchmark"),
    "score": ("Score", "better"),  # best first: lowest time or latency, highest throughput
    "derived": ("Per accelerator", "derived"),
}
DEFAULT_SORT = "result_id"


@dataclass
class View:
    """One view of the explorer, read from the URL: the filters, the search, the sort, the derived
    metric, and what was wrong with the URL (each a message for the reader)."""

    filters: dict[str, Any] = field(default_factory=dict)
    q: str = ""
    sort: str = DEFAULT_SORT
    derived: bool = False
    problems: list[str] = field(default_factory=list)
    empty: bool = False  # an unknown filter value: the view is empty, and says why

    def query(self, **changes: Any) -> str:
        """The URL query of this view, with `changes` (None removes a key)."""
        params = QueryDict(mutable=True)
        for key, value in self.filters.items():
            params[key] = str(value)
        if self.q:
            params["q"] = self.q
        if self.sort != DEFAULT_SORT:
            params["sort"] = self.sort
        if self.derived:
            params["derived"] = "per_accelerator"
        for key, value in changes.items():
            if value is None:
                params.pop(key, None)
            else:
                params[key] = str(value)
        return params.urlencode()

    def as_dict(self) -> dict[str, Any]:
        return {**self.filters, **({"q": self.q} if self.q else {}), "sort": self.sort,
                **({"derived": "per_accelerator"} if self.derived else {})}  # fmt: skip


FACETS_CACHE_SECONDS = 600


def facets(at: dt.datetime | None = None) -> dict[str, list[Any]]:
    """The values each filter can take (over every published result), from the cache while the
    published record is unchanged (the same public rounds, publications and corrections): one query
    to know that, one per filter when it changed."""
    rounds = public_rounds(at)
    stamp = Round.objects.filter(pk__in=rounds.values("pk")).aggregate(
        n=Count("pk", distinct=True), last=Max("publication__id"), corrected=Max("published_results__corrections__id")
    )
    key = f"results:facets:{stamp['n']}:{stamp['last']}:{stamp['corrected']}"
    found: dict[str, list[Any]] | None = cache.get(key)
    if found is None:
        found = _facets(at)
        cache.set(key, found, FACETS_CACHE_SECONDS)
    return found


def _facets(at: dt.datetime | None) -> dict[str, list[Any]]:
    scores = PublishedScore.objects.filter(result__round__in=public_rounds(at).values("pk"))
    out: dict[str, list[Any]] = {}
    for name, (_, path, _) in FILTERS.items():
        if name == "round":
            continue
        values = scores.exclude(**{f"{path}__isnull": True}).values_list(path, flat=True).distinct().order_by(path)
        out[name] = [v for v in values if v != ""]
    out["round"] = list(
        Round.objects.filter(pk__in=public_rounds(at).values("pk"))
        .order_by("-created_at", "name")
        .values_list("slug", "name")
    )
    return out


def view_from(params: QueryDict | dict[str, Any], options: dict[str, list[Any]]) -> View:
    """The view that a URL asks for. A value no published result has makes the view empty with a
    message naming it (a link to a filter that no longer matches shows nothing, never an error)."""
    view = View()
    for name, (label, _, kind) in FILTERS.items():
        raw = str(params.get(name) or "").strip()
        if not raw:
            continue
        known = [slug for slug, _ in options["round"]] if name == "round" else options.get(name, [])
        value: Any = raw
        if kind == "int":
            try:
                value = int(raw)
            except ValueError:
                view.problems.append(f"{label} must be a whole number, not {raw[:60]!r}; it was left out.")
                continue
        if value not in known:
            view.problems.append(f"No published result has {label.lower()} {raw[:80]!r}.")
            view.empty = True
        view.filters[name] = value
    view.q = str(params.get("q") or "").strip()[:100]
    sort = str(params.get("sort") or DEFAULT_SORT).strip()
    if sort.lstrip("-") not in COLUMNS:
        view.problems.append(f"Results cannot be sorted by {sort[:40]!r}; sorted by result ID.")
        sort = DEFAULT_SORT
    view.derived = str(params.get("derived") or "") == "per_accelerator"
    if sort.lstrip("-") == "derived" and not view.derived:
        sort = DEFAULT_SORT
    view.sort = sort
    return view


def filtered(view: View, at: dt.datetime | None = None) -> QuerySet[PublishedScore]:
    """The rows of a view, in its order (ties broken by result ID and benchmark, so pages are stable)."""
    rows = public_scores(at)
    if view.empty:
        return rows.none()
    for name, value in view.filters.items():
        rows = rows.filter(**{FILTERS[name][1]: value})
    if view.q:
        rows = rows.filter(Q(result__system_name__icontains=view.q) | Q(result__system__icontains=view.q))
    column = COLUMNS[view.sort.lstrip("-")][1]
    descending = view.sort.startswith("-")
    order = F(column).desc(nulls_last=True) if descending else F(column).asc(nulls_last=True)
    # by benchmark (inference: model/scenario), the best score first within each
    within = ["better"] if view.sort.lstrip("-") == "benchmark" else []
    return rows.order_by(order, *within, "result__round__name", "result__result_id", "benchmark", "scaling")


def page_of(rows: QuerySet[PublishedScore], keys: list[int], *, derived: bool = False) -> list[dict[str, Any]]:
    """The rows (as `rows_of` gives them) of a page whose keys a narrow query found (a deferred join:
    sorting and skipping carry only the sort columns and the key, however deep the page)."""
    found = {r["pk"]: r for r in rows_of(rows.order_by().filter(pk__in=keys), derived=derived)}
    return [found[k] for k in keys if k in found]


# ---------------------------------------------------------------- charts' data


def best_by_round(rows: QuerySet[PublishedScore]) -> list[dict[str, Any]]:
    """The best score per benchmark and round of the view (lowest for times and latencies, highest
    for throughputs),
    rounds in the order they were created: one query."""
    found = (
        rows.order_by()
        .values("benchmark", "units", "result__round__name", "result__round__created_at")
        .annotate(low=Min("score"), high=Max("score"))
        .order_by("benchmark", "result__round__created_at")
    )
    return [
        {
            "benchmark": r["benchmark"],
            "round": r["result__round__name"],
            "units": r["units"],
            "best": r["low"] if r["units"] in LOWER_IS_BETTER else r["high"],
        }
        for r in found
    ]


CHART_POINTS = 300


def scaling_points(rows: QuerySet[PublishedScore], *, derived: bool = False) -> tuple[list[dict[str, Any]], int]:
    """Score (or the derived value) against accelerator count, and how many rows of the view have an
    accelerator count. One point per benchmark and accelerator count, the best there (lowest time,
    highest throughput) with how many results it stands for; when the view has at most CHART_POINTS
    such rows, one point per result instead. One query, two for a small view."""
    with_count = rows.filter(result__accelerator_count__gt=0)
    metric = "derived" if derived else "score"
    found = list(
        with_count.order_by()
        .values("benchmark", "units", "result__accelerator_count")
        .annotate(low=Min(metric), high=Max(metric), n=Count("pk"))
        .order_by("benchmark", "result__accelerator_count")
    )
    total = sum(r["n"] for r in found)
    if total > CHART_POINTS:
        return [
            {
                "result_id": None,
                "benchmark": r["benchmark"],
                "accelerators": r["result__accelerator_count"],
                "value": r["low"] if r["units"] in LOWER_IS_BETTER else r["high"],
                "units": r["units"],
                "results": r["n"],
            }
            for r in found
            if r["low"] is not None
        ], total
    # "derived" is public_scores()' annotation, which the type QuerySet[PublishedScore] does not carry.
    values = with_count.values_list("result__result_id", "benchmark", "result__accelerator_count", "score", "derived",  # type: ignore[misc]
                                    "units")  # fmt: skip
    points = []
    for rid, b, n, score, d, u in values:
        value = d if derived else score
        if value is not None:
            points.append(
                {"result_id": rid, "benchmark": b, "accelerators": n, "value": value, "units": u, "results": 1}
            )
    return points, total


def accuracy_points(rows: QuerySet[PublishedScore]) -> list[dict[str, Any]]:
    """Inference: accuracy against performance, where accuracy was published: one query."""
    values = rows.filter(detail__accuracy__isnull=False).values_list(
        "result__result_id", "benchmark", "score", "units", "detail__accuracy", "detail__accuracy_metric"
    )[:CHART_POINTS]
    return [
        {"result_id": rid, "benchmark": b, "performance": s, "units": u, "accuracy": a, "metric": m}
        for rid, b, s, u, a, m in values
    ]


# ---------------------------------------------------------------- one result, one system, comparisons


def published_result(result_id: str, at: dt.datetime | None = None) -> PublishedResult | None:
    """The review's published result, when it is public; with its details and its scores' runs."""
    found = review_selectors.published_result(result_id)
    if found is None or not public_rounds(at).filter(pk=found.round_id).exists():
        return None
    return (
        PublishedResult.objects.select_related(
            "round__group", "round__publication", "version__submission", "organisation", "detail"
        )
        .prefetch_related(
            Prefetch("scores", queryset=PublishedScore.objects.select_related("detail").order_by("benchmark")),
            "corrections__corrected_by",
            "version__check_runs",
        )
        .get(pk=found.pk)
    )


def system_results(folder: str, system: str, at: dt.datetime | None = None) -> list[PublishedResult]:
    """Every published result of one system (a submitter folder and a system description), newest
    round first."""
    return list(
        public_results(at)
        .filter(submitter_folder=folder, system=system)
        .select_related("round", "detail")
        .prefetch_related(Prefetch("scores", queryset=PublishedScore.objects.order_by("benchmark")))
        .order_by("-round__created_at", "result_id")
    )


MAX_COMPARED = 4


def compared_results(result_ids: list[str], at: dt.datetime | None = None) -> list[PublishedResult]:
    """Up to four public results, in the order asked for (unknown IDs are left out)."""
    found = {
        r.result_id: r
        for r in public_results(at)
        .filter(result_id__in=result_ids[:MAX_COMPARED])
        .select_related("round", "detail")
        .prefetch_related(Prefetch("scores", queryset=PublishedScore.objects.order_by("benchmark")))
    }
    return [found[i] for i in result_ids[:MAX_COMPARED] if i in found]


def latest_of_systems(systems: list[tuple[str, str]], at: dt.datetime | None = None) -> list[str]:
    """The result ID of each system's newest published result (for comparing systems)."""
    if not systems:
        return []
    condition = Q()
    for folder, system in systems[:MAX_COMPARED]:
        condition |= Q(submitter_folder=folder, system=system)
    newest: dict[tuple[str, str], str] = {}
    for folder, system, rid in (
        public_results(at).filter(condition).order_by("round__created_at", "result_id")
        .values_list("submitter_folder", "system", "result_id")
    ):  # fmt: skip
        newest[(folder, system)] = rid
    return [newest[s] for s in systems[:MAX_COMPARED] if s in newest]


# ---------------------------------------------------------------- rows as the table, exports and API give them


def detail_of(obj: Any) -> Any:
    try:
        return obj.detail
    except Exception:  # no details recorded (published before the explorer): blank columns
        return None


# a row's fields → where they come from (one flat query: no model instances, so exports stream fast)
ROW_PATHS = {
    "pk": "pk",
    "result_id": "result__result_id",
    "round": "result__round__slug",
    "round_name": "result__round__name",
    "suite": "result__round__suite",
    "organisation": "result__organisation_name",
    "submitter_folder": "result__submitter_folder",
    "system": "result__system",
    "system_name": "result__system_name",
    "nodes": "result__nodes",
    "host_processor": "result__detail__host_processor",
    "host_processor_count": "result__detail__host_processor_count",
    "accelerator": "result__accelerator",
    "accelerator_count": "result__accelerator_count",
    "framework": "result__framework",
    "division": "result__division",
    "availability": "result__availability",
    "benchmark": "benchmark",
    "scaling": "scaling",
    "scenario": "detail__scenario",
    "score": "score",
    "units": "units",
    "accuracy": "detail__accuracy",
    "accuracy_metric": "detail__accuracy_metric",
    "power": "detail__power",
    "power_units": "detail__power_units",
    "version_sha256": "result__version_sha256",
    "submission_id": "result__submission_id",
    "version_number": "result__version__number",
    "derived": "derived",
}


def rows_of(
    rows: QuerySet[PublishedScore], *, derived: bool = False, chunk_size: int | None = None
) -> Iterator[dict[str, Any]]:
    """The rows of the explorer, the same for the table, the CSV, the JSON and the API, in the
    queryset's order (streamed in chunks when `chunk_size` is given)."""
    names = list(ROW_PATHS)
    values = rows.values_list(*ROW_PATHS.values())
    for found in values.iterator(chunk_size=chunk_size) if chunk_size else values:
        out = dict(zip(names, found, strict=True))
        out["host_processor"] = out["host_processor"] or ""
        out["scenario"] = out["scenario"] or ""
        out["accuracy_metric"] = out["accuracy_metric"] or ""
        out["power_units"] = out["power_units"] or ""
        if out.pop("scaling") != "strong":
            out["benchmark"] = f"{out['benchmark']}:weak"
        value = out.pop("derived")
        if derived:
            out["per_accelerator"] = value
            out["per_accelerator_units"] = derived_units(out["units"])
            out["per_accelerator_note"] = DERIVED_NOTE
        yield out


def derived_units(units: str) -> str:
    return f"accelerator-{units}" if units in TIME_UNITS else f"{units} per accelerator"
