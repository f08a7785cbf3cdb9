"""Fixed latency buckets and percentiles estimated from them. Pure: no ORM, no request.

Rollups store, per row, how many calls fell in each bucket. Buckets add up across rows,
so p50/p95 of any range, key or endpoint come from rollups alone, the way Prometheus
histograms do: find the bucket holding the rank, interpolate linearly inside it.
"""

from collections.abc import Sequence
from dataclasses import dataclass

DASH = "\u2013"  # an en dash, as in "5\u201310 ms"
# Lower bounds in milliseconds; bucket i holds latencies in [EDGES[i], EDGES[i + 1]).
EDGES: tuple[int, ...] = (0, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000)


@dataclass(frozen=True)
class Bucket:
    lower_ms: int
    upper_ms: int | None  # None: the open last bucket

    @property
    def label(self) -> str:
        if self.upper_ms is None:
            return f"≥ {' '.join(_ms(self.lower_ms))}"
        if self.lower_ms == 0:
            return f"< {' '.join(_ms(self.upper_ms))}"
        (low, low_unit), (high, high_unit) = _ms(self.lower_ms), _ms(self.upper_ms)
        if low_unit == high_unit:
            return f"{low}{DASH}{high} {high_unit}"
        return f"{low} {low_unit}{DASH}{high} {high_unit}"


def _ms(value: int) -> tuple[str, str]:
    return (f"{value / 1000:g}", "s") if value >= 1000 else (str(value), "ms")


BUCKETS: tuple[Bucket, ...] = tuple(
    Bucket(lower, EDGES[i + 1] if i + 1 < len(EDGES) else None) for i, lower in enumerate(EDGES)
)


def bucket_of(latency_ms: int) -> int:
    """Index of the bucket a latency falls in."""
    for index in range(len(EDGES) - 1, -1, -1):
        if latency_ms >= EDGES[index]:
            return index
    return 0


def add(*histograms: Sequence[int]) -> list[int]:
    """Element-wise sum of histograms."""
    total = [0] * len(BUCKETS)
    for histogram in histograms:
        for index, count in enumerate(histogram):
            total[index] += count
    return total


def percentile(histogram: Sequence[int], q: float) -> float | None:
    """Estimated latency (ms) below which a fraction q of calls fell; None with no calls.

    In the open last bucket the estimate is its lower bound: "at least 10 s".
    """
    total = sum(histogram)
    if total == 0:
        return None
    rank = q * total
    seen = 0
    for bucket, count in zip(BUCKETS, histogram, strict=True):
        if count and seen + count >= rank:
            if bucket.upper_ms is None:
                return float(bucket.lower_ms)
            share = (rank - seen) / count
            return bucket.lower_ms + (bucket.upper_ms - bucket.lower_ms) * share
        seen += count
    return float(BUCKETS[-1].lower_ms)
