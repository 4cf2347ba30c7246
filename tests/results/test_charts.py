"""The SVG charts (pure, no database): readable without colour (a shape per series, in the legend
too), a title per point, axes that cover the data, the derived note, escaping, empty views."""

import re
import xml.etree.ElementTree as ET

from submissions.results import charts
from submissions.results.charts import Point

NS = "{http://www.w3.org/2000/svg}"


def test_each_series_has_its_own_marker_shape_shown_in_the_legend():
    series = {name: [Point(2**i, 10.0 / (i + 1) + n, f"{name}-{i}") for i in range(3)] for n, name in
              enumerate(["bert", "retinanet", "flux1", "rgat"])}  # fmt: skip
    svg = charts.scatter_chart(
        series, title="Scaling", x_label="Accelerators", y_label="Minutes", log_x=True, log_y=True
    )
    ET.fromstring(svg)  # well-formed
    root = ET.fromstring(svg)
    points = [g for g in root.iter(f"{NS}g") if g.get("class") == "point"]
    assert len(points) == 12
    by_series: dict[str, set[str]] = {}
    for g in points:
        name = g.find(f"{NS}title").text.split(":")[0]
        shape = g[1]
        by_series.setdefault(name, set()).add(shape.tag + (shape.get("d", "")[:1] if shape.tag.endswith("path") else "")
                                               + str(len((shape.get("points") or "").split())))  # fmt: skip
    assert all(len(s) == 1 for s in by_series.values())  # one shape per series
    assert len({next(iter(s)) for s in by_series.values()}) == 4  # and a different one for each
    legend = next(g for g in root.iter(f"{NS}g") if g.get("class") == "legend")
    assert [t.text for t in legend.iter(f"{NS}text")][1:] == ["bert", "retinanet", "flux1", "rgat"]
    assert root.get("role") == "img" and root.find(f"{NS}title").text == "Scaling"


def test_point_titles_name_the_result_and_values():
    svg = charts.scatter_chart({"retinanet": [Point(64, 7.0, "5.1-0001")]}, title="t", x_label="x", y_label="y")
    assert "<title>retinanet: 5.1-0001 (64, 7)</title>" in svg


def test_trend_lines_have_distinct_dash_patterns_and_round_labels():
    svg = charts.trend_chart(
        {"bert": [("v5.0", 10.0), ("v5.1", 8.0)], "rgat": [("v5.0", 5.0), ("v5.1", 4.0)]},
        ["v5.0", "v5.1"], title="Trend", y_label="Minutes",
    )  # fmt: skip
    dashes = re.findall(r'<polyline [^>]*?(stroke-dasharray="[^"]*")?/>', svg)
    assert len(re.findall("<polyline", svg)) == 2 and len(set(dashes)) == 2
    assert ">v5.0</text>" in svg and ">v5.1</text>" in svg
    assert "<title>bert, v5.1: 8</title>" in svg


def test_ticks_cover_the_data():
    assert charts.ticks(8, 4096, log=True)[0] <= 8 and charts.ticks(8, 4096, log=True)[-1] >= 4096
    linear = charts.ticks(3.2, 47.0)
    assert linear[0] <= 3.2 and linear[-1] >= 47.0 and len(linear) <= 12
    assert charts.ticks(5, 5) == sorted(charts.ticks(5, 5))


def test_note_and_escaping_and_empty_chart():
    svg = charts.scatter_chart({"<b>&": [Point(1, 1, "x")]}, title="T", x_label="x", y_label="y",
                               note="Per accelerator: derived, not an official MLPerf result.")  # fmt: skip
    assert "derived, not an official MLPerf result" in svg and "<b>&" not in svg and "&lt;b&gt;&amp;" in svg
    empty = charts.scatter_chart({}, title="Nothing", x_label="x", y_label="y")
    assert "No published results in this view." in empty
    ET.fromstring(empty)
