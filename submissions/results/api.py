"""`GET /api/v1/results`: the explorer's rows in pages, on the same NinjaAPI (submissions/api.py),
with the same filters as /results/ and the fields of `GET /api/v1/rounds/{slug}/results` plus
`round`. Public: published results only (the explorer's selectors)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest
from django.urls import reverse
from ninja import Query, Schema

from submissions.api import PUBLIC_AUTH, ErrorOut, api
from submissions.results import selectors
from submissions.review.api import ResultOut

PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


class ExplorerResultOut(ResultOut):
    round: str
    round_name: str
    suite: str
    scenario: str
    accuracy: float | None = None
    accuracy_metric: str = ""
    power: float | None = None
    power_units: str = ""
    host_processor: str
    host_processor_count: int | None
    url: str
    per_accelerator: float | None = None
    per_accelerator_units: str | None = None
    per_accelerator_note: str | None = None


class ExplorerPageOut(Schema):
    page: int
    pages: int
    count: int
    problems: list[str]
    results: list[ExplorerResultOut]


@api.get(
    "/v1/results",
    auth=PUBLIC_AUTH,
    response={200: ExplorerPageOut, 401: ErrorOut},
    url_name="explorer_results",
    summary="Every published result, filtered as on /results/, in pages",
    tags=["results"],
)
def explorer_results(
    request: HttpRequest,
    page: int = 1,
    page_size: int = Query(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE),
):
    """One entry per published result and benchmark, for everyone (no authentication needed).
    Filters as on /results/: `suite`, `round` (slug), `benchmark`, `scenario`, `division`,
    `availability`, `organisation`, `accelerator`, `accelerator_count`, `nodes`, `framework`, `q`
    (system names), `sort` (a column, `-` first for descending), `derived=per_accelerator`. A value
    no published result has gives an empty page and says so in `problems`; a page past the end gives
    the last page."""
    view = selectors.view_from(request.GET, selectors.facets())
    scores = selectors.filtered(view)
    found = Paginator(scores.values_list("pk", flat=True), page_size, allow_empty_first_page=True).get_page(page)
    rows = []
    for out in selectors.page_of(scores, list(found.object_list), derived=view.derived):
        out["url"] = request.build_absolute_uri(reverse("results:result", kwargs={"result_id": out["result_id"]}))
        rows.append(out)
    return {
        "page": found.number,
        "pages": found.paginator.num_pages,
        "count": found.paginator.count,
        "problems": view.problems,
        "results": rows,
    }
