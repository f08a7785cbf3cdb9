"""The public webhooks page says what the code does: event types and their examples, the
retry schedule, the disable rule, the retention period, the limits."""

import json
import re
from datetime import timedelta
from pathlib import Path

from django.conf import settings

from outbox import catalog
from webhooks import client, retry, services

TEXT = (Path(__file__).resolve().parents[2] / "docs/content/webhooks.md").read_text()
FLAT = " ".join(TEXT.split())  # prose wraps anywhere


def bold(value: str) -> str:
    return f"**{value}**"


def spoken(delay: timedelta) -> str:
    seconds = int(delay.total_seconds())
    for unit, size in (("hour", 3600), ("minute", 60), ("second", 1)):
        if seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    raise AssertionError(delay)


def test_every_event_type_is_listed_with_its_example():
    for event in catalog.CATALOG:
        assert f"| `{event.type}` | {event.description} |" in TEXT
        example = json.dumps({"type": event.type, "timestamp": "2026-01-01T00:00:00Z",
                              "data": event.example}, indent=2)
        assert f"### `{event.type}`" in TEXT
        assert f"```json\n{example}\n```" in TEXT, event.type
    listed = re.findall(r"^\| `([a-z_.]+)` \|", TEXT, flags=re.M)
    assert sorted(listed) == sorted(catalog.TYPES)


def test_the_retry_schedule_is_the_code_s():
    rows = re.findall(r"^\| (\d) \| ([^|]+) \|", TEXT, flags=re.M)
    assert [int(n) for n, _ in rows] == list(range(1, retry.MAX_ATTEMPTS + 1))
    assert [delay.strip() for _, delay in rows[1:]] == [spoken(d) for d in retry.SCHEDULE]


def test_the_disable_rule_retention_deadline_and_limits_are_the_code_s():
    days = retry.DISABLE_AFTER.days
    assert f"has failed for {bold(f'{days - retry.WARN_BEFORE_DISABLE.days} days')}" in FLAT
    assert f"failed for {bold(f'{days} days')} and that" in FLAT
    assert f"at least {bold(f'{int(retry.WARN_BEFORE_DISABLE.total_seconds() // 3600)} hours')}" \
        in FLAT
    assert f"kept for {bold(f'{settings.WEBHOOK_RETENTION_DAYS} days')}" in FLAT
    assert f"within {bold(f'{settings.WEBHOOK_ATTEMPT_DEADLINE:g} seconds')}" in FLAT
    assert f"at most {client.MAX_HEADERS} headers, {client.MAX_HEADER_BYTES // 1024} KB" \
        in FLAT
    assert f"first {client.EXCERPT_BYTES // 1024} KB" in FLAT
    assert f"limited to {settings.WEBHOOK_TEST_EVENTS_PER_HOUR} an hour" in FLAT
    assert f"to {settings.WEBHOOK_REPLAYS_PER_HOUR:,} an hour" in FLAT
    overlap = int(services.ROTATION_OVERLAP.total_seconds() // 3600)
    assert f"overlap of {bold(f'{overlap} hours')}" in FLAT
