"""How usage numbers read on the page: a dash for "no calls", never "None" or "nan"."""

from html import escape

from django import template
from django.utils.safestring import mark_safe
from django.utils.timezone import localtime

register = template.Library()


@register.filter
def percent(value) -> str:
    """0.0123 -> "1.2%"; None (no calls) -> "—"."""
    if value is None:
        return "—"
    return f"{value * 100:.1f}%"


@register.filter
def milliseconds(value) -> str:
    """12.4 -> "12 ms", 2500 -> "2.5 s"; None (no calls) -> "—"."""
    if value is None:
        return "—"
    if value >= 1000:
        return f"{value / 1000:.1f} s"
    return f"{value:.0f} ms"


# The usage page repeats a handful of elements for every period (up to 168 a range):
# SVG bars and dots, data table rows. Drawn by the template language they cost tens of
# thousands of node renders per page; written here, a string per element. Escaped by
# the standard library's escape: Django's own wraps every call in lazy-string checks.

def _count(value: int) -> str:
    return f"{value:,}"


@register.simple_tag
def chart_bars(bars) -> str:
    """The <rect> of every bar of a stacked bar chart, each with its tooltip."""
    return mark_safe("".join(  # noqa: S308 - every text value is escaped
        f'<rect class="chart__bar {escape(bar.css)}" x="{bar.x}" y="{bar.y}" '
        f'width="{bar.width}" height="{bar.height}"><title>{escape(bar.title)}</title></rect>'
        for bar in bars))


@register.simple_tag
def chart_dots(dots) -> str:
    """The <circle> of every marked point of a line, each with its tooltip."""
    return mark_safe("".join(  # noqa: S308 - every text value is escaped
        f'<circle class="chart__dot" cx="{cx}" cy="{cy}" r="2.5"><title>{escape(title)}'
        "</title></circle>" for cx, cy, title in dots))


@register.simple_tag
def period_rows(rows) -> str:
    """The rows of the charts' data table: the period, the requests by status class and in
    all, the error rate, then the latency percentiles and mean."""
    return mark_safe("".join(  # noqa: S308 - every text value is escaped
        f'<tr><th scope="row"><time datetime="{localtime(start).isoformat()}">'
        f"{escape(label)}</time></th>"
        + "".join(f'<td class="numeric">{escape(cell)}</td>' for cell in (
            *map(_count, by_class), _count(totals.count), percent(totals.error_rate),
            milliseconds(totals.p50), milliseconds(totals.p95), milliseconds(totals.mean_ms)))
        + "</tr>" for label, start, by_class, totals in rows))
