"""Server-rendered SVG charts of the explorer. Pure: no Django, no JavaScript.

Readable without colour alone: every series has its own marker shape (and, in line charts, its own
dash pattern), named in a legend that shows the same shape; every point has a <title> (shown on
hover and read by screen readers); the chart is an <svg role="img"> with a title and a description.
The data of each chart is also given as a table beside it (the views' job)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 720, 420
LEFT, RIGHT, TOP, BOTTOM = 80, 200, 48, 64
# Okabe-Ito: distinguishable with the common colour-vision deficiencies; shape still carries meaning
COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]
SHAPES = ["circle", "square", "triangle", "diamond", "cross", "triangle-down", "plus", "star"]
DASHES = ["", "6 3", "2 3", "8 3 2 3", "1 2", "10 4", "4 2 1 2", "12 2"]


@dataclass(frozen=True, slots=True)
class Point:
    x: float
    y: float
    label: str  # what the point is (result ID, round): its <title>


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def marker(shape: str, x: float, y: float, colour: str, size: float = 5.0) -> str:
    """One marker of `shape` centred on (x, y)."""
    s = size
    style = f'fill="{colour}" stroke="#000" stroke-width="0.6"'
    if shape == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{s:.1f}" {style}/>'
    if shape == "square":
        return f'<rect x="{x - s:.1f}" y="{y - s:.1f}" width="{2 * s:.1f}" height="{2 * s:.1f}" {style}/>'
    if shape == "triangle":
        pts = [(x, y - s * 1.2), (x - s * 1.1, y + s * 0.8), (x + s * 1.1, y + s * 0.8)]
    elif shape == "triangle-down":
        pts = [(x, y + s * 1.2), (x - s * 1.1, y - s * 0.8), (x + s * 1.1, y - s * 0.8)]
    elif shape == "diamond":
        pts = [(x, y - s * 1.3), (x + s * 1.1, y), (x, y + s * 1.3), (x - s * 1.1, y)]
    elif shape == "star":
        pts = []
        for i in range(10):
            r = s * 1.4 if i % 2 == 0 else s * 0.6
            a = math.pi / 2 + i * math.pi / 5
            pts.append((x + r * math.cos(a), y - r * math.sin(a)))
    else:  # cross and plus: strokes, thick enough to see
        d = s if shape == "cross" else s * 1.2
        if shape == "cross":
            path = f"M{x - d:.1f},{y - d:.1f}L{x + d:.1f},{y + d:.1f}M{x - d:.1f},{y + d:.1f}L{x + d:.1f},{y - d:.1f}"
        else:
            path = f"M{x - d:.1f},{y:.1f}L{x + d:.1f},{y:.1f}M{x:.1f},{y - d:.1f}L{x:.1f},{y + d:.1f}"
        return f'<path d="{path}" stroke="{colour}" stroke-width="2.5" fill="none"/>'
    coords = " ".join(f"{px:.1f},{py:.1f}" for px, py in pts)
    return f'<polygon points="{coords}" {style}/>'


def _nice_step(span: float, count: int = 5) -> float:
    raw = span / max(count, 1)
    if raw <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * magnitude:
            return m * magnitude
    return 10 * magnitude


def ticks(lo: float, hi: float, *, log: bool = False) -> list[float]:
    """Axis ticks covering [lo, hi]: powers of ten (or two, for small log ranges) on a log axis,
    round steps on a linear one."""
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    if log:
        lo, hi = max(lo, 1e-12), max(hi, 1e-12)
        base = 2 if hi / lo <= 1024 and lo >= 1 else 10
        first = math.floor(math.log(lo, base) + 1e-9)
        last = math.ceil(math.log(hi, base) - 1e-9)
        return [float(base**k) for k in range(first, last + 1)]
    step = _nice_step(hi - lo)
    first = math.floor(lo / step) * step
    out, v = [], first
    while v <= hi + step * 1e-6:
        out.append(round(v, 10))
        v += step
    if out[-1] < hi:
        out.append(out[-1] + step)
    return out


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1000 or abs(v) < 0.01:
        return f"{v:.3g}"
    return f"{v:.4g}"


class _Axis:
    def __init__(self, lo: float, hi: float, start: float, end: float, log: bool) -> None:
        self.ticks = ticks(lo, hi, log=log)
        self.lo, self.hi, self.log = self.ticks[0], self.ticks[-1], log
        self.start, self.end = start, end

    def __call__(self, v: float) -> float:
        if self.log:
            lo, hi, v = math.log(self.lo), math.log(self.hi), math.log(max(v, 1e-12))
        else:
            lo, hi = self.lo, self.hi
        span = (hi - lo) or 1.0
        return self.start + (v - lo) / span * (self.end - self.start)


def _frame(title: str, desc: str, chart_id: str, body: list[str], x_label: str, y_label: str, note: str) -> str:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" class="chart" id="{chart_id}">'
        f'<title id="{chart_id}-title">{_e(title)}</title><desc id="{chart_id}-desc">{_e(desc)}</desc>'
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>'
        f'<text x="{LEFT}" y="24" font-size="15" font-weight="bold">{_e(title)}</text>'
    )
    labels = (
        f'<text x="{LEFT + (WIDTH - LEFT - RIGHT) / 2:.0f}" y="{HEIGHT - 14}" font-size="12" '
        f'text-anchor="middle">{_e(x_label)}</text>'
        f'<text transform="translate(18 {TOP + (HEIGHT - TOP - BOTTOM) / 2:.0f}) rotate(-90)" font-size="12" '
        f'text-anchor="middle">{_e(y_label)}</text>'
    )
    foot = f'<text x="{LEFT}" y="40" font-size="11" font-style="italic">{_e(note)}</text>' if note else ""
    return head + foot + labels + "".join(body) + "</svg>"


def _legend(names: Sequence[str]) -> list[str]:
    x = WIDTH - RIGHT + 16
    out = [f'<g class="legend" font-size="11"><text x="{x}" y="{TOP}" font-weight="bold">Legend</text>']
    for i, name in enumerate(names):
        y = TOP + 18 + i * 18
        out.append(marker(SHAPES[i % len(SHAPES)], WIDTH - RIGHT + 22, y - 4, COLOURS[i % len(COLOURS)], 4.5))
        out.append(f'<text x="{WIDTH - RIGHT + 34}" y="{y}">{_e(name[:28])}</text>')
    out.append("</g>")
    return out


def _grid(xa: _Axis | None, ya: _Axis, x_cats: Sequence[str] | None = None) -> list[str]:
    out = ['<g class="axes" font-size="11" stroke-width="1">']
    x0, x1, y0, y1 = LEFT, WIDTH - RIGHT, HEIGHT - BOTTOM, TOP
    for t in ya.ticks:
        y = ya(t)
        out.append(f'<line x1="{x0}" x2="{x1}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{x0 - 6}" y="{y + 4:.1f}" text-anchor="end">{_fmt(t)}</text>')
    if xa is not None:
        for t in xa.ticks:
            x = xa(t)
            out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y0}" y2="{y1}" stroke="#eee"/>')
            out.append(f'<text x="{x:.1f}" y="{y0 + 16}" text-anchor="middle">{_fmt(t)}</text>')
    if x_cats is not None:
        for i, cat in enumerate(x_cats):
            x = _cat_x(i, len(x_cats))
            out.append(f'<text x="{x:.1f}" y="{y0 + 16}" text-anchor="middle">{_e(cat)}</text>')
    out.append(f'<line x1="{x0}" x2="{x1}" y1="{y0}" y2="{y0}" stroke="#000"/>')
    out.append(f'<line x1="{x0}" x2="{x0}" y1="{y0}" y2="{y1}" stroke="#000"/>')
    out.append("</g>")
    return out


def _cat_x(i: int, n: int) -> float:
    span = WIDTH - RIGHT - LEFT
    return LEFT + span * (i + 0.5) / max(n, 1)


def _empty(title: str, chart_id: str, message: str) -> str:
    return _frame(title, message, chart_id, [
        f'<text x="{WIDTH / 2:.0f}" y="{HEIGHT / 2:.0f}" text-anchor="middle" font-size="14">{_e(message)}</text>'
    ], "", "", "")  # fmt: skip


def trend_chart(
    series: dict[str, list[tuple[str, float]]],
    categories: Sequence[str],
    *,
    title: str,
    y_label: str,
    chart_id: str = "trend",
    log_y: bool = True,
    note: str = "",
) -> str:
    """A line per series over categorical x (rounds, in order); (category, value) points."""
    values = [v for pts in series.values() for _, v in pts if v is not None and v > 0]
    if not values or not categories:
        return _empty(title, chart_id, "No published results in this view.")
    ya = _Axis(min(values), max(values), HEIGHT - BOTTOM, TOP, log_y)
    index = {c: i for i, c in enumerate(categories)}
    body = _grid(None, ya, list(categories))
    for n, (name, pts) in enumerate(series.items()):
        colour, shape, dash = COLOURS[n % len(COLOURS)], SHAPES[n % len(SHAPES)], DASHES[n % len(DASHES)]
        coords = [(_cat_x(index[c], len(categories)), ya(v), c, v) for c, v in pts if c in index and v and v > 0]
        coords.sort()
        if len(coords) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in coords)
            body.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"'
                + (f' stroke-dasharray="{dash}"' if dash else "")
                + "/>"
            )
        for x, y, c, v in coords:
            title_text = f"{_e(name)}, {_e(c)}: {_fmt(v)}"
            body.append(f'<g class="point"><title>{title_text}</title>{marker(shape, x, y, colour)}</g>')
    body += _legend(list(series))
    desc = f"{title}: {len(series)} series over {len(categories)} rounds."
    return _frame(title, desc, chart_id, body, "Round", y_label, note)


def scatter_chart(
    series: dict[str, list[Point]],
    *,
    title: str,
    x_label: str,
    y_label: str,
    chart_id: str = "scatter",
    log_x: bool = False,
    log_y: bool = False,
    note: str = "",
) -> str:
    """Points per series (each with its own marker shape)."""
    pts = [p for ps in series.values() for p in ps]
    usable = [p for p in pts if (not log_x or p.x > 0) and (not log_y or p.y > 0)]
    if not usable:
        return _empty(title, chart_id, "No published results in this view.")
    xa = _Axis(min(p.x for p in usable), max(p.x for p in usable), LEFT, WIDTH - RIGHT, log_x)
    ya = _Axis(min(p.y for p in usable), max(p.y for p in usable), HEIGHT - BOTTOM, TOP, log_y)
    body = _grid(xa, ya)
    for n, (name, ps) in enumerate(series.items()):
        colour, shape = COLOURS[n % len(COLOURS)], SHAPES[n % len(SHAPES)]
        for p in ps:
            if (log_x and p.x <= 0) or (log_y and p.y <= 0):
                continue
            body.append(
                f'<g class="point"><title>{_e(name)}: {_e(p.label)} ({_fmt(p.x)}, {_fmt(p.y)})</title>'
                f"{marker(shape, xa(p.x), ya(p.y), colour)}</g>"
            )
    body += _legend(list(series))
    desc = f"{title}: {len(usable)} points in {len(series)} series."
    return _frame(title, desc, chart_id, body, x_label, y_label, note)
