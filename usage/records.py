"""The gateway's usage report, parsed and validated whole. Pure: no ORM, no request.

`parse_batch` either returns every record or raises `InvalidBatch` naming each item and
field that failed, so a report is stored completely or not at all.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

MAX_RECORDS = 1000
MAX_BODY_BYTES = 1024 * 1024
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
# Older reports would reopen hours whose raw rows may already be purged
# (services.RAW_RETENTION); a little future is clock skew between machines.
MAX_AGE = timedelta(days=30)
MAX_SKEW = timedelta(minutes=5)
MAX_LATENCY_MS = 3_600_000
FIELDS = ("key_id", "endpoint", "method", "status", "latency_ms", "request_id", "occurred_at")

_PRINTABLE = re.compile(r"^[\x21-\x7e]+$")  # visible ASCII, no spaces


@dataclass(frozen=True)
class CallIn:
    key_id: str
    endpoint: str
    method: str
    status: int
    latency_ms: int
    request_id: str
    occurred_at: datetime


@dataclass(frozen=True)
class FieldError:
    index: int | None  # None: the batch itself
    field: str
    detail: str

    @property
    def pointer(self) -> str:
        """Where it failed, as the gateway's developer would look for it."""
        if self.index is None:
            return self.field
        return f"records[{self.index}].{self.field}" if self.field else f"records[{self.index}]"


class InvalidBatch(ValueError):
    """The report was refused whole; `errors` lists every item and field that failed."""

    def __init__(self, errors: list[FieldError]):
        super().__init__("; ".join(f"{e.pointer}: {e.detail}" for e in errors[:3]))
        self.errors = errors


def _text(value, *, max_length: int) -> str | None:
    if isinstance(value, str) and 0 < len(value) <= max_length and _PRINTABLE.match(value):
        return value
    return None


def _integer(value, low: int, high: int) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
        return value
    return None


def _timestamp(value, now: datetime) -> tuple[datetime | None, str]:
    if not isinstance(value, str):
        return None, "must be an ISO 8601 timestamp string"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None, "must be an ISO 8601 timestamp, e.g. 2026-11-20T10:00:00Z"
    if moment.tzinfo is None:
        return None, "must include a UTC offset, e.g. Z or +00:00"
    if moment > now + MAX_SKEW:
        return None, "is in the future"
    if moment < now - MAX_AGE:
        return None, f"is older than {MAX_AGE.days} days"
    return moment, ""


def parse_record(index: int, item, now: datetime) -> tuple[CallIn | None, list[FieldError]]:
    """One item of the report, or the reasons it is not a call record."""
    if not isinstance(item, dict):
        return None, [FieldError(index, "", "must be an object")]
    errors = []

    def fail(field: str, detail: str) -> None:
        errors.append(FieldError(index, field, detail))

    key_id = _text(item.get("key_id"), max_length=32)
    if key_id is None:
        fail("key_id", "must be the key's public id, e.g. key_…")
    endpoint = item.get("endpoint")
    if not (_text(endpoint, max_length=200) and endpoint.startswith("/")
            and "?" not in endpoint and "#" not in endpoint):
        fail("endpoint", "must be a path template such as /v1/transactions (200 characters "
                         "at most, no query string)")
    method = item.get("method")
    method = method.upper() if isinstance(method, str) else None
    if method not in METHODS:
        fail("method", f"must be one of {', '.join(sorted(METHODS))}")
    status = _integer(item.get("status"), 100, 599)
    if status is None:
        fail("status", "must be an integer HTTP status between 100 and 599")
    latency_ms = _integer(item.get("latency_ms"), 0, MAX_LATENCY_MS)
    if latency_ms is None:
        fail("latency_ms", f"must be an integer between 0 and {MAX_LATENCY_MS}")
    request_id = _text(item.get("request_id"), max_length=100)
    if request_id is None:
        fail("request_id", "must be a non-empty string of at most 100 visible characters")
    occurred_at, why = _timestamp(item.get("occurred_at"), now)
    if occurred_at is None:
        fail("occurred_at", why)
    if errors:
        return None, errors
    return CallIn(key_id, endpoint, method, status, latency_ms, request_id, occurred_at), []


def parse_batch(payload, *, now: datetime) -> list[CallIn]:
    """Every record of `{"records": [...]}`, or InvalidBatch naming what failed."""
    if not isinstance(payload, dict) or not isinstance(payload.get("records"), list):
        raise InvalidBatch([FieldError(None, "records", "must be a list of call records")])
    items = payload["records"]
    if len(items) > MAX_RECORDS:
        raise InvalidBatch([FieldError(
            MAX_RECORDS, "", f"is one too many: at most {MAX_RECORDS} records per report")])
    records, errors = [], []
    for index, item in enumerate(items):
        record, problems = parse_record(index, item, now)
        if record is not None:
            records.append(record)
        errors.extend(problems)
    if errors:
        raise InvalidBatch(errors)
    return records
