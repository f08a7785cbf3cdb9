"""Keyset pagination: newest first by (a time field, id), a page after a cursor.

A page costs one query that walks an index from the cursor, whatever the table holds:
no COUNT(*) and no OFFSET, which both grow with the data. The cursor names the last
row shown; rows written meanwhile never shift a page or repeat a row.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Q

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Page:
    items: list
    next_cursor: str  # "" on the last page
    is_first: bool


def encode(moment: datetime, pk: int) -> str:
    """The cursor after a row: microseconds since the epoch and the id."""
    return f"{(moment - EPOCH) // timedelta(microseconds=1)}-{pk}"


def decode(text: str) -> tuple[datetime, int] | None:
    """The (time, id) of a cursor `encode` made; None for anything else."""
    micros, _, pk = text.partition("-")
    if not (micros.isdigit() and pk.isdigit()) or len(micros) > 17 or len(pk) > 19:
        return None
    return EPOCH + timedelta(microseconds=int(micros)), int(pk)


def page(queryset, *, field: str, after: tuple[datetime, int] | None, size: int) -> Page:
    """The `size` rows of `queryset` after the cursor, newest `field` first, id breaking
    ties: one query (an index on (..., field, id) lets it stop after size + 1 rows)."""
    if after is not None:
        moment, pk = after
        queryset = queryset.filter(**{f"{field}__lte": moment}).filter(
            Q(**{f"{field}__lt": moment}) | Q(pk__lt=pk))
    rows = list(queryset.order_by(f"-{field}", "-pk")[:size + 1])
    more = len(rows) > size
    rows = rows[:size]
    cursor = encode(getattr(rows[-1], field), rows[-1].pk) if more else ""
    return Page(rows, cursor, after is None)
