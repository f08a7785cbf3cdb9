"""When to try a failed webhook delivery again, and when to give up on an endpoint.

Pure: no ORM, no request. Times are timezone-aware datetimes passed in by the caller, so
the schedule is tested without a clock.
"""

import random
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

# Waits after attempts 1..7; attempt 8 is the last. The same schedule as Svix, whose
# customers already expect it.
SCHEDULE: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
MAX_ATTEMPTS = len(SCHEDULE) + 1
# Spreads the retries of many deliveries that failed together (an endpoint outage), so
# they do not all return in the same second.
JITTER = 0.10
RETRY_AFTER_CAP = timedelta(days=1)
DISABLE_AFTER = timedelta(days=5)
WARN_BEFORE_DISABLE = timedelta(days=1)

_DIGITS = re.compile(r"[0-9]+")


def next_delay(
    attempt_number: int, rng: Callable[[], float] = random.random, jitter: float = JITTER
) -> timedelta | None:
    """The wait after failed attempt `attempt_number` (1-based), jittered; None once exhausted."""
    if attempt_number < 1:
        raise ValueError("Attempts are numbered from 1.")
    if attempt_number > len(SCHEDULE):
        return None
    # rng() is uniform in [0, 1): 0.5 gives the exact delay, the ends give -/+ jitter.
    factor = 1 + jitter * (2 * rng() - 1)
    return SCHEDULE[attempt_number - 1] * factor


def retry_after(header_value: str | None, now: datetime) -> timedelta | None:
    """The wait a `Retry-After` header asks for, within 0..1 day; None if absent or unreadable."""
    if header_value is None:
        return None
    value = header_value.strip()
    if _DIGITS.fullmatch(value):
        # Capped before building the timedelta: a huge number would overflow it.
        return timedelta(seconds=min(int(value), int(RETRY_AFTER_CAP.total_seconds())))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # HTTP dates are always GMT (RFC 9110)
    # A date in the past means "now"; a far-future one must not park a delivery for months.
    return min(max(when - now, timedelta(0)), RETRY_AFTER_CAP)


def health_action(failing_since: datetime | None, warned_at: datetime | None,
                  now: datetime) -> str | None:
    """"warn", "disable" or None for an endpoint failing since `failing_since`.

    It is warned once it has failed for 4 days, and disabled only once it has failed for
    5 days *and* was warned at least a day earlier: the warning always comes first,
    even after a quiet week without events. A success resets both (failing_since None)."""
    if failing_since is None:
        return None
    failing = now - failing_since
    if warned_at is None:
        return "warn" if failing >= DISABLE_AFTER - WARN_BEFORE_DISABLE else None
    if failing >= DISABLE_AFTER and now - warned_at >= WARN_BEFORE_DISABLE:
        return "disable"
    return None
