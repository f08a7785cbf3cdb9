"""How usage numbers read on the page: a dash for "no calls", never "None" or "nan"."""

from django import template

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
