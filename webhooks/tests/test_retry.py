from datetime import UTC, datetime, timedelta

import pytest

from webhooks.retry import MAX_ATTEMPTS, health_action, next_delay, retry_after

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def middle() -> float:
    return 0.5


def lowest() -> float:
    return 0.0


def highest() -> float:
    return 0.999999


@pytest.mark.parametrize(
    ("attempt", "delay"),
    [
        (1, timedelta(seconds=5)),
        (2, timedelta(minutes=5)),
        (3, timedelta(minutes=30)),
        (4, timedelta(hours=2)),
        (5, timedelta(hours=5)),
        (6, timedelta(hours=10)),
        (7, timedelta(hours=10)),
        (8, None),
        (9, None),
    ],
)
def test_next_delay_follows_the_schedule_without_jitter_at_the_middle(attempt, delay):
    assert next_delay(attempt, rng=middle) == delay


def test_there_are_eight_attempts_in_all():
    delays = [next_delay(n, rng=middle) for n in range(1, 20)]

    assert MAX_ATTEMPTS == 8
    assert delays.index(None) + 1 == MAX_ATTEMPTS


@pytest.mark.parametrize(
    ("attempt", "rng", "delay"),
    [
        (1, lowest, timedelta(seconds=4.5)),
        (1, highest, timedelta(seconds=5.5)),
        (3, lowest, timedelta(minutes=27)),
        (3, highest, timedelta(minutes=33)),
        (7, lowest, timedelta(hours=9)),
        (7, highest, timedelta(hours=11)),
    ],
)
def test_jitter_stays_within_ten_percent(attempt, rng, delay):
    assert abs(next_delay(attempt, rng=rng) - delay) < timedelta(milliseconds=50)


def test_jitter_can_be_turned_off_or_widened():
    assert next_delay(2, rng=lowest, jitter=0) == timedelta(minutes=5)
    assert next_delay(2, rng=lowest, jitter=0.5) == timedelta(minutes=2.5)


def test_default_random_source_gives_a_delay_within_bounds():
    for _ in range(100):
        assert timedelta(hours=4.5) <= next_delay(5) <= timedelta(hours=5.5)


def test_attempts_are_numbered_from_one():
    with pytest.raises(ValueError, match="from 1"):
        next_delay(0)


@pytest.mark.parametrize(
    ("header", "wait"),
    [
        (None, None),
        ("", None),
        ("120", timedelta(seconds=120)),
        ("  120 ", timedelta(seconds=120)),
        ("0", timedelta(0)),
        ("86400", timedelta(days=1)),
        ("86401", timedelta(days=1)),
        ("99999999999999999999999", timedelta(days=1)),
        ("-5", None),
        ("1.5", None),
        ("soon", None),
        ("Fri, 20 Nov 2026 10:02:00 GMT", timedelta(minutes=2)),
        ("Friday, 20-Nov-26 10:02:00 GMT", timedelta(minutes=2)),  # RFC 850, still allowed
        ("Fri Nov 20 10:02:00 2026", timedelta(minutes=2)),  # asctime, read as GMT
        ("Fri, 20 Nov 2026 09:00:00 GMT", timedelta(0)),  # in the past
        ("Sat, 20 Nov 2027 10:00:00 GMT", timedelta(days=1)),  # a year away
        ("Fri, 32 Nov 2026 10:00:00 GMT", None),
    ],
)
def test_retry_after_reads_seconds_or_http_date_within_a_day(header, wait):
    assert retry_after(header, NOW) == wait


D, H = timedelta(days=1), timedelta(hours=1)


@pytest.mark.parametrize(
    ("failing_for", "warned_ago", "action"),
    [
        (None, None, None),                  # healthy
        (timedelta(0), None, None),          # the first failure
        (4 * D - H, None, None),
        (4 * D, None, "warn"),               # four days of failures: warn
        (4 * D + 23 * H, 23 * H, None),      # warned, waiting for the fifth day
        (5 * D, D, "disable"),               # five days, warned a day ago
        (5 * D, 23 * H, None),               # five days, but warned less than a day ago
        (7 * D, None, "warn"),               # a quiet week: the warning still comes first
        (7 * D + 23 * H, 23 * H, None),
        (8 * D, D, "disable"),               # ... and the disabling a day after it
        (30 * D, 2 * D, "disable"),
    ],
)
def test_an_endpoint_is_warned_a_day_before_it_is_disabled(failing_for, warned_ago, action):
    failing_since = None if failing_for is None else NOW - failing_for
    warned_at = None if warned_ago is None else NOW - warned_ago

    assert health_action(failing_since, warned_at, NOW) == action
