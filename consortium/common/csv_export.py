"""CSV export for every app, with one rule against formula injection: a text cell that a spreadsheet
would run as a formula (it starts with =, +, -, @, a tab or a carriage return) gets a leading
apostrophe. Imports no app."""

import csv
from collections.abc import Iterable, Iterator
from typing import Any, Protocol

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


def csv_cell(value: Any) -> Any:
    """`value` as a cell no spreadsheet runs: formula-like text is escaped, None is empty."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_write(out: _Writable, rows: Iterable[Iterable[Any]]) -> None:
    """Writes `rows` (the header first, if any) to `out`, every cell through `csv_cell`."""
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])


class _Echo:
    def write(self, text: str) -> str:
        return text


def csv_lines(rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """`rows` as CSV lines, one at a time, for a StreamingHttpResponse; cells through `csv_cell`."""
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow([csv_cell(value) for value in row])
