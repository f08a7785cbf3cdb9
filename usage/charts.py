"""Server-rendered SVG charts: geometry only. Pure: no ORM, no request.

The CSP allows no inline style and no script, so charts are SVG shapes with
presentation attributes (x, y, width, height, points) and CSS classes for colour;
`templates/usage/chart.html` draws a `Chart`, and every chart comes with a data table.
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from usage.selectors import Report

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 12, 28
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
DENSE = 48  # periods above which line charts draw no dot per point


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


@dataclass(frozen=True)
class Line:
    css: str
    segments: tuple[str, ...]  # "x,y x,y ..." for each unbroken run of values
    dots: tuple[tuple[float, float, str], ...]  # (cx, cy, title)


@dataclass(frozen=True)
class Tick:
    position: float  # y for the value axis, x for the time axis
    label: str


@dataclass(frozen=True)
class LegendItem:
    css: str
    label: str


@dataclass(frozen=True)
class Chart:
    slug: str
    title: str
    description: str
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]
    bars: tuple[Bar, ...] = ()
    lines: tuple[Line, ...] = ()
    legend: tuple[LegendItem, ...] = ()
    width: int = WIDTH
    height: int = HEIGHT
    plot_left: int = LEFT
    plot_right: int = WIDTH - RIGHT
    plot_bottom: int = HEIGHT - BOTTOM


def nice_ceiling(value: float, *, minimum: float = 1) -> float:
    """A round axis maximum (1, 2 or 5 times a power of ten) at or above value."""
    value = max(value, minimum)
    power = 10 ** math.floor(math.log10(value))
    for factor in (1, 2, 5, 10):
        if value <= factor * power:
            return factor * power
    return 10 * power  # pragma: no cover (floating point edge)


def compact(value: float, unit: str = "") -> str:
    """1200 -> "1.2k", 0.5 -> "0.5", with an optional unit suffix."""
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            number = f"{value / limit:.1f}".rstrip("0").rstrip(".")
            return f"{number}{suffix}{unit}"
    number = f"{value:.1f}".rstrip("0").rstrip(".") if value % 1 else f"{value:.0f}"
    return f"{number}{unit}"


def _y_ticks(top: float, unit: str) -> tuple[Tick, ...]:
    return tuple(Tick(round(TOP + PLOT_H * (1 - i / 4), 1), compact(top * i / 4, unit))
                 for i in range(5))


def _slot(count: int) -> float:
    return PLOT_W / max(count, 1)


def _y(value: float, top: float) -> float:
    return round(TOP + PLOT_H * (1 - value / top), 1)


def time_ticks(starts: Sequence[datetime], granularity: str) -> tuple[Tick, ...]:
    """A few readable labels along the time axis: every 4 hours, each midnight, or every
    5th day (counted back from today)."""
    slot, ticks = _slot(len(starts)), []
    span_days = len(starts) > 24
    for index, start in enumerate(starts):
        if granularity == "day":
            show, label = (len(starts) - 1 - index) % 5 == 0, f"{start.day} {start:%b}"
        elif span_days:
            show, label = start.hour == 0, f"{start:%a} {start.day}"
        else:
            show, label = start.hour % 4 == 0, f"{start:%H:%M}"
        if show:
            ticks.append(Tick(round(LEFT + slot * (index + 0.5), 1), label))
    return tuple(ticks)


def stacked_bars(slug: str, title: str, description: str, starts: Sequence[datetime],
                 granularity: str, series: Sequence[tuple[str, str, Sequence[int]]],
                 period_label) -> Chart:
    """Bars per period, stacked by series of (css, label, values)."""
    totals = [sum(values[i] for _, _, values in series) for i in range(len(starts))]
    top = nice_ceiling(max(totals, default=0))
    slot = _slot(len(starts))
    width = max(round(slot * 0.8, 1), 1)
    bars = []
    for index, start in enumerate(starts):
        x = round(LEFT + slot * index + (slot - width) / 2, 1)
        base = 0
        for css, label, values in series:
            value = values[index]
            if value:
                y_top, y_base = _y(base + value, top), _y(base, top)
                bars.append(Bar(x, y_top, width, round(y_base - y_top, 1), css,
                                f"{period_label(start)}: {value} {label}"))
                base += value
    return Chart(slug, title, description, _y_ticks(top, ""), time_ticks(starts, granularity),
                 bars=tuple(bars),
                 legend=tuple(LegendItem(css, label) for css, label, _ in series))


def lines(slug: str, title: str, description: str, starts: Sequence[datetime],
          granularity: str, series: Sequence[tuple[str, str, Sequence[float | None]]],
          period_label, unit: str = "", minimum: float = 1) -> Chart:
    """One line per series of (css, label, values); a None value breaks the line.

    Every point gets a dot (with its value as a tooltip) unless the chart is dense; then
    only points standing alone do, or they would not show at all.
    """
    values = [v for _, _, vs in series for v in vs if v is not None]
    top = nice_ceiling(max(values, default=0), minimum=minimum)
    slot = _slot(len(starts))
    dense = len(starts) > DENSE
    drawn = []
    for css, label, series_values in series:
        runs, run = [], []
        for index, value in enumerate(series_values):
            if value is None:
                if run:
                    runs.append(run)
                run = []
                continue
            x, y = round(LEFT + slot * (index + 0.5), 1), _y(value, top)
            run.append((x, y, f"{period_label(starts[index])}: {label} {compact(value, unit)}"))
        if run:
            runs.append(run)
        segments = tuple(" ".join(f"{x},{y}" for x, y, _ in r) for r in runs if len(r) > 1)
        dots = tuple(dot for r in runs if not dense or len(r) == 1 for dot in r)
        drawn.append(Line(css, segments, dots))
    return Chart(slug, title, description, _y_ticks(top, unit), time_ticks(starts, granularity),
                 lines=tuple(drawn),
                 legend=tuple(LegendItem(css, label) for css, label, _ in series))


# --- The usage page's charts -----------------------------------------------------------------

def period_label(granularity: str) -> Callable[[datetime], str]:
    """How one period reads in tooltips and tables: "20 Nov 10:00" or "20 Nov 2026"."""
    if granularity == "day":
        return lambda start: f"{start.day} {start:%b %Y}"
    return lambda start: f"{start.day} {start:%b %H}:00"


def report_charts(report: "Report") -> list[Chart]:
    """Requests by status class, error rate and latency percentiles over the range."""
    starts = [p.start for p in report.periods]
    granularity, label = report.range.granularity, period_label(report.range.granularity)
    total = report.totals
    rate = "no" if total.error_rate is None else f"{total.error_rate:.1%}"
    requests = stacked_bars(
        "requests", "Requests by status class",
        f"{total.count:,} requests in the {report.range.label.lower()}, {rate} errors.",
        starts, granularity,
        [(f"chart__bar--{c}xx", f"{c}xx", [p.totals.by_class.get(c, 0) for p in report.periods])
         for c in report.classes], label)
    errors = lines(
        "errors", "Error rate", f"Share of 4xx and 5xx responses per period; {rate} overall.",
        starts, granularity,
        [("chart__line--errors", "error rate",
          [None if p.totals.error_rate is None else p.totals.error_rate * 100
           for p in report.periods])], label, unit="%")
    latency = lines(
        "latency", "Latency", "Estimated 50th and 95th percentile latency per period.",
        starts, granularity,
        [("chart__line--p50", "p50", [p.totals.p50 for p in report.periods]),
         ("chart__line--p95", "p95", [p.totals.p95 for p in report.periods])],
        label, unit=" ms", minimum=10)
    return [requests, errors, latency]


def report_rows(report: "Report") -> list[tuple]:
    """The charts' data tables: (label, start, counts by class, totals) of every period
    with calls, newest first, as people read a log."""
    label = period_label(report.range.granularity)
    return [(label(p.start), p.start, [p.totals.by_class.get(c, 0) for c in report.classes],
             p.totals) for p in reversed(report.periods) if p.totals.count]
