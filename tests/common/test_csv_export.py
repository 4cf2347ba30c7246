"""One rule for every CSV export: formula-like text is escaped, everything else passes through."""

import csv
import io

import pytest

from consortium.common.csv_export import csv_cell, csv_lines, csv_write


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=cmd()", "'=cmd()"),
        ("+1", "'+1"),
        ("-1+2", "'-1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        (-3, -3),
        (4.5, 4.5),
    ],
)
def test_csv_cell(value, cell):
    assert csv_cell(value) == cell


def test_written_and_streamed_csv_are_the_same_and_escaped():
    rows = [["name", "note"], ["=HYPERLINK(1)", None], ["ok", 7]]
    out = io.StringIO()
    csv_write(out, rows)
    assert "".join(csv_lines(rows)) == out.getvalue()
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [["name", "note"], ["'=HYPERLINK(1)", ""], ["ok", "7"]]
