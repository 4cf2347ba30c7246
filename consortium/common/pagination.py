"""Pagination for every list that grows with the data (pages and API): Django's Paginator.

A page number past the end gives the last page and one that is not a number the first, never an
error; `page.out_of_range` says so, and the partial `common/_pagination.html` tells the reader.
Imports no app: apps use it from their views.
"""

from collections.abc import Sequence
from typing import Any

from django.core.paginator import Page, Paginator
from django.http import HttpRequest

PER_PAGE = 25  # short pages: a page costs the same however long the list, and little


def paginate(
    request: HttpRequest, items: Sequence[Any] | Any, *, per_page: int = PER_PAGE, param: str = "page"
) -> Page:
    """The page of `items` (a queryset or a list) that `?<param>=` asks for."""
    paginator = Paginator(items, per_page, allow_empty_first_page=True)
    asked = request.GET.get(param, "1")
    page = paginator.get_page(asked)
    page.param = param  # type: ignore[attr-defined]
    page.asked = asked  # type: ignore[attr-defined]
    page.out_of_range = str(page.number) != asked.strip() and asked.strip() not in ("", "1")  # type: ignore[attr-defined]
    query = request.GET.copy()
    query.pop(param, None)
    page.other_params = query.urlencode()  # type: ignore[attr-defined]
    return page
