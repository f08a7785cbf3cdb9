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


@register.simple_tag
def request_rows(calls) -> str:
    """The request log's rows (a page of up to 50 calls): time, method, path, status (a
    badge from 400), latency, key and Request-Id; under an error, the body it returned."""
    return mark_safe("".join(map(_request_row, calls)))  # noqa: S308 - _request_row escapes


def _request_row(call) -> str:
    at, request_id = localtime(call.occurred_at), escape(call.request_id)
    status = (f'<span class="badge badge--warn">{call.status}</span>' if call.status >= 400
              else str(call.status))
    row = (f'<tr><td><time datetime="{at.isoformat()}">{at.day} {at:%b %H:%M:%S}</time></td>'
           f"<td>{escape(call.method)}</td><td><code>{escape(call.endpoint)}</code></td>"
           f'<td class="numeric">{status}</td><td class="numeric">{call.latency_ms} ms</td>'
           f'<td>{escape(call.api_key.name)}<br><span class="muted">'
           f"{escape(call.api_key.public_id)}</span></td><td><code>{request_id}</code></td></tr>")
    if call.error_body:
        row += ('<tr class="table__detail"><td colspan="7"><details class="details">'
                f"<summary>Error body returned for {request_id}</summary>"
                f'<pre class="details__body"><code>{escape(call.error_body)}</code></pre>'
                "</details></td></tr>")
    return row
