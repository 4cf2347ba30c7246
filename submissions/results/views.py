"""The results explorer's pages and exports: thin views over submissions/results/selectors.py.
Everything here is public (published results only); bad input gives a message, never an error page."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from consortium.common.csv_export import csv_lines
from consortium.common.pagination import paginate
from submissions.results import charts, selectors
from submissions.review.selectors import result_citation

EXPORT_COLUMNS = [
    "result_id", "round", "organisation", "system_name", "system", "submitter_folder", "nodes", "host_processor",
    "host_processor_count", "accelerator", "accelerator_count", "framework", "division", "availability",
    "benchmark", "scenario", "score", "units", "accuracy", "accuracy_metric", "power", "power_units",
    "version_sha256", "url",
]  # fmt: skip
DERIVED_COLUMNS = ["per_accelerator", "per_accelerator_units", "per_accelerator_note"]


def _view(request: HttpRequest) -> tuple[selectors.View, dict[str, list[Any]]]:
    options = selectors.facets()
    return selectors.view_from(request.GET, options), options


def _filter_fields(view: selectors.View, options: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Each filter of the form with its choices and the one chosen (values as the URL has them)."""
    out = []
    for name, (label, _, _) in selectors.FILTERS.items():
        chosen = str(view.filters.get(name, ""))
        pairs = options["round"] if name == "round" else [(v, v) for v in options.get(name, [])]
        choices = [(str(v), str(text), str(v) == chosen) for v, text in pairs]
        if chosen and not any(selected for _, _, selected in choices):
            choices.insert(0, (chosen, f"{chosen} (no published result)", True))
        out.append({"name": name, "label": label, "choices": choices})
    return out


def _sort_links(view: selectors.View) -> list[dict[str, Any]]:
    """Each column heading with the link that sorts by it (again: the other way round)."""
    out = []
    for key, (label, _) in selectors.COLUMNS.items():
        if key == "derived" and not view.derived:
            continue
        current = view.sort.lstrip("-") == key
        descending = view.sort.startswith("-")
        target = f"-{key}" if current and not descending else key
        out.append(
            {
                "key": key,
                "label": label,
                "query": view.query(sort=target, page=None),
                "aria": ("descending" if descending else "ascending") if current else "none",
            }
        )
    return out


def explorer(request: HttpRequest) -> HttpResponse:
    """/results/: every published result, filtered, searched, sorted and in pages; the table alone
    for htmx requests (the filters' form swaps it in and pushes the URL)."""
    view, options = _view(request)
    rows = selectors.filtered(view)
    page = paginate(request, rows.values_list("pk", flat=True), per_page=selectors.PER_PAGE)
    context = {
        "view": view,
        "options": options,
        "filters": _filter_fields(view, options),
        "page": page,
        "rows": selectors.page_of(rows, list(page.object_list), derived=view.derived),
        "columns": _sort_links(view),
        "query": view.query(),
        "derived_note": selectors.DERIVED_NOTE,
    }
    template = "submissions/results/_table.html" if request.htmx else "submissions/results/explorer.html"
    return render(request, template, context)


def _no_result(request: HttpRequest, result_id: str) -> HttpResponse:
    return render(request, "submissions/results/missing.html", {"result_id": result_id[:40]}, status=404)


def result(request: HttpRequest, result_id: str) -> HttpResponse:
    """/results/<ID>/: a published result with its system description, runs, checks and corrections."""
    found = selectors.published_result(result_id)
    if found is None:
        return _no_result(request, result_id)
    url = request.build_absolute_uri(reverse("results:result", kwargs={"result_id": found.result_id}))
    scores = []
    for s in found.scores.all():
        detail = selectors.detail_of(s)
        scores.append({"score": s, "detail": detail, "runs": detail.runs if detail else []})
    return render(
        request,
        "submissions/results/result.html",
        {
            "result": found,
            "detail": selectors.detail_of(found),
            "scores": scores,
            "checks": sorted(found.version.check_runs.all(), key=lambda r: (r.queued_at, r.pk)),
            "citation": result_citation(found, url),
            "url": url,
        },
    )


def system(request: HttpRequest, folder: str, system: str) -> HttpResponse:
    """/results/systems/<folder>/<system>/: one system's published results across rounds."""
    results = selectors.system_results(folder, system)
    benchmarks = sorted({s.benchmark for r in results for s in r.scores.all()})
    rows = [(r, [next((s for s in r.scores.all() if s.benchmark == b), None) for b in benchmarks]) for r in results]
    status = 200 if results else 404
    return render(
        request,
        "submissions/results/system.html",
        {"folder": folder, "system": system, "results": results, "benchmarks": benchmarks, "rows": rows},
        status=status,
    )


def _split(values: list[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        out += [v.strip() for v in value.split(",") if v.strip()]
    return out


def compare(request: HttpRequest) -> HttpResponse:
    """/results/compare/?ids=5.1-0001,5.1-0002 or ?system=<folder>/<system>&system=…: two to four
    results side by side (a system stands for its newest published result)."""
    asked = _split(request.GET.getlist("ids") + request.GET.getlist("id"))
    systems = [tuple(s.split("/", 1)) for s in _split(request.GET.getlist("system")) if "/" in s]
    problems = []
    ids = asked + selectors.latest_of_systems(systems)  # type: ignore[arg-type]
    if len(ids) > selectors.MAX_COMPARED:
        problems.append(f"At most {selectors.MAX_COMPARED} results are compared; the first four are shown.")
    results = selectors.compared_results(ids)
    missing = [i for i in asked[: selectors.MAX_COMPARED] if i not in {r.result_id for r in results}]
    if missing:
        problems.append(f"No published result {', '.join(m[:40] for m in missing)}; left out.")
    if len(results) < 2:
        problems.append("Choose two to four published results (or systems) to compare.")
    benchmarks = sorted({s.benchmark for r in results for s in r.scores.all()})
    fields = [
        ("Round", lambda r: r.round.name),
        ("Organisation", lambda r: r.organisation_name),
        ("System", lambda r: r.system_name),
        ("Nodes", lambda r: r.nodes),
        ("Host processor", lambda r: getattr(selectors.detail_of(r), "host_processor", "")),
        ("Host processors", lambda r: getattr(selectors.detail_of(r), "host_processor_count", "")),
        ("Accelerator", lambda r: r.accelerator),
        ("Accelerators", lambda r: r.accelerator_count),
        ("Framework", lambda r: r.framework),
        ("Division", lambda r: r.division),
        ("Availability", lambda r: r.availability),
    ]
    table = [(label, [get(r) for r in results]) for label, get in fields]
    score_rows = [
        (b, [next((s for s in r.scores.all() if s.benchmark == b), None) for r in results]) for b in benchmarks
    ]
    return render(
        request,
        "submissions/results/compare.html",
        {"results": results, "table": table, "score_rows": score_rows, "problems": problems},
    )


def chart_data(view: selectors.View, options: dict[str, list[Any]]) -> dict[str, Any]:
    """The three charts of a view and their data tables (accuracy only where inference is published)."""
    rows = selectors.filtered(view)
    best = selectors.best_by_round(rows)
    rounds_in_order: list[str] = []
    for b in best:
        if b["round"] not in rounds_in_order:
            rounds_in_order.append(b["round"])
    trend: dict[str, list[tuple[str, float]]] = {}
    for b in best:
        trend.setdefault(b["benchmark"], []).append((b["round"], b["best"]))
    units = sorted({b["units"] for b in best})
    trend_svg = charts.trend_chart(
        trend,
        rounds_in_order,
        title="Best score per benchmark across rounds",
        y_label=f"Best score ({', '.join(units) or 'minutes'}; log scale)",
        chart_id="chart-trend",
    )
    points, total = selectors.scaling_points(rows, derived=view.derived)
    scaling: dict[str, list[charts.Point]] = {}
    for p in points:
        label = p["result_id"] or f"best of {p['results']} results"
        scaling.setdefault(p["benchmark"], []).append(charts.Point(p["accelerators"], p["value"], label))
    scaling_units = sorted({p["units"] for p in points})
    if view.derived:
        y_label = f"{', '.join(selectors.derived_units(u) for u in scaling_units)} (derived; log scale)"
        note = f"Per accelerator: {selectors.DERIVED_NOTE}."
    else:
        y_label, note = f"Score ({', '.join(scaling_units) or 'minutes'}; log scale)", ""
    scaling_svg = charts.scatter_chart(
        scaling,
        title="Score against accelerator count" + (" (derived)" if view.derived else ""),
        x_label="Accelerators (log scale)",
        y_label=y_label,
        chart_id="chart-scaling",
        log_x=True,
        log_y=True,
        note=note,
    )
    accuracy = selectors.accuracy_points(rows) if "inference" in options.get("suite", []) else []
    acc_series: dict[str, list[charts.Point]] = {}
    for p in accuracy:
        acc_series.setdefault(p["benchmark"], []).append(charts.Point(p["performance"], p["accuracy"], p["result_id"]))
    accuracy_svg = (
        charts.scatter_chart(
            acc_series,
            title="Inference: accuracy against performance",
            x_label="Performance (log scale)",
            y_label="Accuracy",
            chart_id="chart-accuracy",
            log_x=True,
        )
        if accuracy
        else ""
    )
    return {
        "best": best,
        "trend_svg": trend_svg,
        "points": points,
        "points_total": total,
        "points_cap": selectors.CHART_POINTS,
        "points_aggregated": total > selectors.CHART_POINTS,
        "scaling_svg": scaling_svg,
        "accuracy": accuracy,
        "accuracy_svg": accuracy_svg,
    }


def charts_page(request: HttpRequest) -> HttpResponse:
    """/results/charts/: the charts of the same view as /results/ (same URL parameters)."""
    view, options = _view(request)
    context = {
        "view": view,
        "options": options,
        "filters": _filter_fields(view, options),
        "query": view.query(),
        "derived_note": selectors.DERIVED_NOTE,
        **chart_data(view, options),
    }
    return render(request, "submissions/results/charts.html", context)


# ---------------------------------------------------------------- exports


def _export_rows(request: HttpRequest, view: selectors.View) -> Iterator[dict[str, Any]]:
    base = request.build_absolute_uri(reverse("results:explorer"))  # …/results/
    for out in selectors.rows_of(selectors.filtered(view), derived=view.derived, chunk_size=2000):
        out["url"] = f"{base}{out['result_id']}/"
        yield out


def _too_big(view: selectors.View) -> HttpResponse | None:
    limit = getattr(settings, "RESULTS_EXPORT_MAX_ROWS", 200_000)
    count = selectors.filtered(view).count()
    if count <= limit:
        return None
    return HttpResponse(
        f"This view has {count} rows; exports hold at most {limit}. Narrow the filters and export again.\n",
        status=413,
        content_type="text/plain; charset=utf-8",
    )


def _filename(ext: str) -> str:
    return f"mlperf-results-{timezone.now():%Y%m%d-%H%M}.{ext}"


def export_csv(request: HttpRequest) -> HttpResponse:
    """The current view (every page of it, in its order) as CSV, streamed; formula-safe cells."""
    view, _ = _view(request)
    refused = _too_big(view)
    if refused:
        return refused
    columns = EXPORT_COLUMNS + (DERIVED_COLUMNS if view.derived else [])

    def rows() -> Iterator[list[Any]]:
        yield columns
        for r in _export_rows(request, view):
            yield [r.get(c) for c in columns]

    response = StreamingHttpResponse(csv_lines(rows()), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename("csv")}"'
    return response


def export_json(request: HttpRequest) -> HttpResponse:
    """The current view as JSON, streamed: {"view": …, "note": …, "results": [...]}."""
    view, _ = _view(request)
    refused = _too_big(view)
    if refused:
        return refused
    columns = EXPORT_COLUMNS + (DERIVED_COLUMNS if view.derived else [])

    def chunks() -> Iterator[str]:
        head = {"view": view.as_dict(), "problems": view.problems}
        if view.derived:
            head["note"] = f"per_accelerator is {selectors.DERIVED_NOTE}"
        yield json.dumps(head, cls=DjangoJSONEncoder)[:-1] + ', "results": ['
        for n, r in enumerate(_export_rows(request, view)):
            yield ("," if n else "") + json.dumps({c: r.get(c) for c in columns}, cls=DjangoJSONEncoder)
        yield "]}"

    response = StreamingHttpResponse(chunks(), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{_filename("json")}"'
    return response
