"""Server-rendered SVG charts for the reports dashboard: no JavaScript, no CDN.

Each function takes plain numbers and already-translated labels and returns
one ``<svg>`` (marked safe; every text in it is escaped). Colours come from
classes styled in ``static/css/reports.css``. Every chart has a <title> and
<desc> for screen readers; the page also shows the same figures as a table.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

SERIES_CLASSES = 8  # .series-0 … .series-7 in reports.css


@dataclass(frozen=True)
class Frame:
    width: int = 720
    height: int = 260
    left: int = 44
    right: int = 52
    top: int = 18
    bottom: int = 34

    @property
    def plot_width(self) -> float:
        return self.width - self.left - self.right

    @property
    def plot_height(self) -> float:
        return self.height - self.top - self.bottom

    @property
    def baseline(self) -> float:
        return self.top + self.plot_height

    def band(self, index: int, count: int) -> tuple[float, float]:
        """(left x, width) of the index-th of ``count`` equal bands."""
        width = self.plot_width / max(count, 1)
        return self.left + index * width, width

    def centre(self, index: int, count: int) -> float:
        x, width = self.band(index, count)
        return x + width / 2

    def y(self, value: float, top_value: float) -> float:
        return (
            self.baseline - (value / top_value) * self.plot_height if top_value else self.baseline
        )


def nice_scale(value: float, *, minimum: float, ticks: int = 4) -> tuple[float, float]:
    """(axis maximum, tick step) with a 1-2-5 step, covering ``value`` (at least ``minimum``)."""
    value = max(value, minimum)
    raw = value / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return step * math.ceil(value / step - 1e-9), step


def _f(value: float) -> str:
    """A coordinate, one decimal (format_html escapes its arguments, so numbers arrive as text)."""
    return f"{value:.1f}"


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _label(value: float, *, percent: bool = False) -> str:
    return f"{_num(value * 100)}%" if percent else _num(value)


def _svg(
    frame: Frame, css_class: str, title: str, desc: str, body: SafeString, uid: str
) -> SafeString:
    return format_html(
        '<svg class="chart {}" viewBox="0 0 {} {}" role="img" aria-labelledby="{}-t {}-d" '
        'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">'
        '<title id="{}-t">{}</title><desc id="{}-d">{}</desc>{}</svg>',
        css_class,
        frame.width,
        frame.height,
        uid,
        uid,
        uid,
        title,
        uid,
        desc,
        body,
    )


def _grid(
    frame: Frame, top_value: float, step: float, *, percent: bool = False, side: str = "left"
) -> SafeString:
    lines = []
    value = 0.0
    while value <= top_value + 1e-9:
        y = frame.y(value, top_value)
        if side == "left":
            lines.append(
                format_html(
                    '<line class="grid-line" x1="{}" x2="{}" y1="{}" y2="{}"/>'
                    '<text class="tick" x="{}" y="{}" text-anchor="end">{}</text>',
                    frame.left,
                    frame.width - frame.right,
                    _f(y),
                    _f(y),
                    frame.left - 6,
                    _f(y + 4),
                    _label(value, percent=percent),
                )
            )
        else:
            lines.append(
                format_html(
                    '<text class="tick tick-right" x="{}" y="{}">{}</text>',
                    frame.width - frame.right + 6,
                    _f(y + 4),
                    _label(value, percent=percent),
                )
            )
        value += step
    return mark_safe("".join(lines))


def _x_labels(frame: Frame, labels: Sequence[str]) -> SafeString:
    """The weeks under the plot; every other one is marked ``is-alt``, which a phone hides
    (reports.css) to draw the rest large enough to read once the chart is scaled down."""
    every = 1 if len(labels) <= 14 else math.ceil(len(labels) / 12)
    drawn = [i for i in range(len(labels)) if i % every == 0]
    last = len(drawn) - 1
    return format_html_join(
        "",
        '<text class="tick x-label{}" x="{}" y="{}" text-anchor="middle">{}</text>',
        (
            # Counted from the last week, so the newest always keeps its label.
            (
                " is-alt" if (last - n) % 2 else "",
                _f(frame.centre(i, len(labels))),
                frame.height - 12,
                labels[i],
            )
            for n, i in enumerate(drawn)
        ),
    )


def _line(
    frame: Frame,
    values: Sequence[float | None],
    top_value: float,
    css_class: str,
    names: Sequence[str],
    *,
    percent: bool = False,
    partial: Sequence[bool] = (),
) -> SafeString:
    """A polyline through the non-null values (broken at nulls), with a dot and tooltip per value.

    A ``partial`` week (still running) is not joined to the line: its value is drawn as a
    hollow dot, so a week half-counted does not read as a final drop.
    """
    parts, segment = [], []
    count = len(values)
    running = [bool(partial[i]) if i < len(partial) else False for i in range(count)]
    for i, value in enumerate(values + [None]):
        if value is None or (i < count and running[i]):
            if len(segment) > 1:
                parts.append(
                    format_html(
                        '<polyline class="line {}" points="{}"/>', css_class, " ".join(segment)
                    )
                )
            segment = []
            continue
        segment.append(f"{frame.centre(i, count):.1f},{frame.y(value, top_value):.1f}")
    for i, value in enumerate(values):
        if value is not None:
            parts.append(
                format_html(
                    '<circle class="dot {}{}" cx="{}" cy="{}" r="3.5"><title>{}: {}</title></circle>',
                    css_class,
                    " is-partial" if running[i] else "",
                    _f(frame.centre(i, count)),
                    _f(frame.y(value, top_value)),
                    names[i],
                    _label(value, percent=percent),
                )
            )
    return mark_safe("".join(parts))


def _target(
    frame: Frame,
    value: float,
    top_value: float,
    label: str,
    *,
    css: str = "target",
) -> SafeString:
    """A dashed line across the plot at ``value``. Its words are in the HTML legend under the
    chart (readable on a phone, never over a bar or the line); here only as its tooltip."""
    y = frame.y(value, top_value)
    return format_html(
        '<line class="{}-line" x1="{}" x2="{}" y1="{}" y2="{}"><title>{}</title></line>',
        css,
        frame.left,
        frame.width - frame.right,
        _f(y),
        _f(y),
        label,
    )


def conversion_trend_chart(
    *,
    labels: Sequence[str],
    names: Sequence[str],
    mqls: Sequence[int],
    sqls: Sequence[int],
    rates: Sequence[float | None],
    target: float,
    partial: Sequence[bool],
    text: dict[str, str],
    uid: str = "trend",
    bands: Sequence[tuple[float, str]] = (),
) -> SafeString:
    """MQL and SQL bars per week, the MQL→SQL rate as a line (right axis) and the dashed target.

    ``bands``: (rate, label) of the alert lines drawn beside the target (too loose, too strict).
    """
    frame = Frame(width=1080, height=300)
    count_top, count_step = nice_scale(max([*mqls, *sqls, 0]), minimum=4)
    rate_top, rate_step = nice_scale(
        max([r for r in rates if r is not None] + [target] + [v for v, _l in bands]) * 1.15,
        minimum=0.2,
    )
    if rate_top > 1:
        rate_top, rate_step = 1.0, 0.25
    bars = []
    for i, (mql, sql) in enumerate(zip(mqls, sqls, strict=True)):
        x, width = frame.band(i, len(labels))
        bar = width * 0.32
        partial_class = " is-partial" if partial[i] else ""
        for offset, value, css, what in (
            (width * 0.16, mql, "col-mql", text["mqls"]),
            (width * 0.16 + bar + 2, sql, "col-sql", text["sqls"]),
        ):
            y = frame.y(value, count_top)
            bars.append(
                format_html(
                    '<rect class="col {}{}" x="{}" y="{}" width="{}" height="{}" rx="2">'
                    "<title>{}: {} {}</title></rect>",
                    css,
                    partial_class,
                    _f(x + offset),
                    _f(y),
                    _f(bar),
                    _f(frame.baseline - y),
                    names[i],
                    value,
                    what,
                )
            )
    body = mark_safe(
        "".join(
            [
                _grid(frame, count_top, count_step),
                _grid(frame, rate_top, rate_step, percent=True, side="right"),
                *bars,
                *[
                    _target(frame, value, rate_top, label, css="band")
                    for value, label in bands
                    if value <= rate_top
                ],
                _target(frame, target, rate_top, text["target"]),
                _line(
                    frame,
                    list(rates),
                    rate_top,
                    "line-rate",
                    names,
                    percent=True,
                    partial=partial,
                ),
                _x_labels(frame, labels),
            ]
        )
    )
    return _svg(frame, "chart-trend", text["title"], text["desc"], body, uid)


def stacked_bars_chart(
    *,
    labels: Sequence[str],
    names: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    partial: Sequence[bool],
    title: str,
    desc: str,
    uid: str = "sources",
) -> SafeString:
    """One bar per week, stacked by series (e.g. MQLs by source); series i gets class series-i."""
    frame = Frame(width=640, height=280, right=12)
    totals = [sum(values[i] for _name, values in series) for i in range(len(labels))]
    top, step = nice_scale(max(totals + [0]), minimum=4)
    rects = []
    for i in range(len(labels)):
        x, width = frame.band(i, len(labels))
        stacked = 0
        for index, (series_name, values) in enumerate(series):
            value = values[i]
            if not value:
                continue
            y_top, y_bottom = frame.y(stacked + value, top), frame.y(stacked, top)
            rects.append(
                format_html(
                    '<rect class="col series-{}{}" x="{}" y="{}" width="{}" height="{}">'
                    "<title>{}: {} {}</title></rect>",
                    index % SERIES_CLASSES,
                    " is-partial" if partial[i] else "",
                    _f(x + width * 0.2),
                    _f(y_top),
                    _f(width * 0.6),
                    _f(y_bottom - y_top),
                    names[i],
                    series_name,
                    value,
                )
            )
            stacked += value
    body = mark_safe("".join([_grid(frame, top, step), *rects, _x_labels(frame, labels)]))
    return _svg(frame, "chart-stacked", title, desc, body, uid)


def lines_chart(
    *,
    labels: Sequence[str],
    names: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[float | None]]],
    percent: bool,
    title: str,
    desc: str,
    uid: str,
    target: tuple[float, str] | None = None,
    unit: str = "",
    partial: Sequence[bool] = (),
) -> SafeString:
    """Lines over the weeks; ``series`` are (css class, name, values). Percent scales run 0–100%.

    ``unit`` names the left axis's unit above it (e.g. "hours").
    """
    # With a unit, the plot starts lower: the unit sits above the top tick, not on it.
    frame = Frame(width=520, height=250 if unit else 240, right=12, top=32 if unit else 18)
    highest = max([v for _c, _n, values in series for v in values if v is not None] + [0])
    top, step = (1.0, 0.25) if percent else nice_scale(highest * 1.1, minimum=4)
    body = [_grid(frame, top, step, percent=percent)]
    if unit:
        body.append(
            format_html(
                '<text class="tick axis-unit" x="{}" y="{}" text-anchor="start">{}</text>',
                2,
                12,
                unit,
            )
        )
    if target is not None:
        body.append(_target(frame, target[0], top, target[1]))
    for css_class, series_name, values in series:
        body.append(
            _line(
                frame,
                list(values),
                top,
                css_class,
                [f"{n} · {series_name}" for n in names],
                percent=percent,
                partial=partial,
            )
        )
    body.append(_x_labels(frame, labels))
    return _svg(frame, "chart-lines", title, desc, mark_safe("".join(body)), uid)


@dataclass(frozen=True)
class FrontPoint:
    x: float  # MQLs per week
    y: float  # share of the window's SQLs kept, 0–1
    label: str  # drawn on the point ("1", "2", … or a short word)
    tooltip: str
    css_class: str = "point-candidate"


def front_chart(
    *, points: Sequence[FrontPoint], x_title: str, y_title: str, title: str, desc: str
) -> SafeString:
    """Candidates as points: MQLs per week (x) against SQLs kept (y), the front joined by a line."""
    frame = Frame(height=300, left=52, right=24, bottom=48)
    x_top, x_step = nice_scale(max([p.x for p in points] + [1]), minimum=1)
    y_top = 1.0

    def x_of(value: float) -> float:
        return frame.left + frame.plot_width * value / x_top

    parts = [_grid(frame, y_top, 0.25, percent=True)]
    value = 0.0
    while value <= x_top + 1e-9:
        parts.append(
            format_html(
                '<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>',
                _f(x_of(value)),
                frame.baseline + 16,
                _num(value),
            )
        )
        value += x_step
    parts.append(
        format_html(
            '<text class="axis-title" x="{}" y="{}" text-anchor="middle">{}</text>'
            '<text class="axis-title" x="{}" y="{}" text-anchor="middle" transform="rotate(-90 {} {})">{}</text>',
            _f(frame.left + frame.plot_width / 2),
            frame.height - 6,
            x_title,
            14,
            _f(frame.top + frame.plot_height / 2),
            14,
            _f(frame.top + frame.plot_height / 2),
            y_title,
        )
    )
    front = sorted((p for p in points if p.css_class == "point-candidate"), key=lambda p: p.x)
    if len(front) > 1:
        parts.append(
            format_html(
                '<polyline class="front-line" points="{}"/>',
                " ".join(f"{x_of(p.x):.1f},{frame.y(p.y, y_top):.1f}" for p in front),
            )
        )
    for point in points:
        cx, cy = _f(x_of(point.x)), _f(frame.y(point.y, y_top))
        parts.append(
            format_html(
                '<g class="point {}"><circle cx="{}" cy="{}" r="11"/>'
                '<text x="{}" y="{}" text-anchor="middle">{}</text><title>{}</title></g>',
                point.css_class,
                cx,
                cy,
                cx,
                _f(frame.y(point.y, y_top) + 4),
                point.label,
                point.tooltip,
            )
        )
    return _svg(frame, "chart-front", title, desc, mark_safe("".join(parts)), "front")
