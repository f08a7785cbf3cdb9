from datetime import UTC, datetime

import pytest

from usage.records import CallIn, InvalidBatch, parse_batch

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
GOOD = {"key_id": "key_abc", "endpoint": "/v1/transactions", "method": "get", "status": 200,
        "latency_ms": 42, "request_id": "req_1", "occurred_at": "2026-11-20T10:00:00Z"}


def test_a_valid_report_parses_every_record():
    records = parse_batch({"records": [GOOD, {**GOOD, "occurred_at": "2026-11-20T11:00:00+01:00",
                                              "request_id": "req_2"}]}, now=NOW)

    assert records == [
        CallIn("key_abc", "/v1/transactions", "GET", 200, 42, "req_1",
               datetime(2026, 11, 20, 10, 0, tzinfo=UTC)),
        CallIn("key_abc", "/v1/transactions", "GET", 200, 42, "req_2",
               datetime(2026, 11, 20, 10, 0, tzinfo=UTC)),
    ]


@pytest.mark.parametrize(("change", "field", "detail"), [
    ({"key_id": ""}, "key_id", "must be the key's public id"),
    ({"key_id": 12}, "key_id", "must be the key's public id"),
    ({"endpoint": "/v1/accounts?limit=2"}, "endpoint", "must be a path template"),
    ({"endpoint": "/v1/with space"}, "endpoint", "must be a path template"),
    ({"endpoint": "/" + "a" * 200}, "endpoint", "must be a path template"),
    ({"method": "BREW"}, "method", "must be one of DELETE, GET"),
    ({"status": 99}, "status", "between 100 and 599"),
    ({"status": 600}, "status", "between 100 and 599"),
    ({"status": True}, "status", "between 100 and 599"),
    ({"latency_ms": -1}, "latency_ms", "between 0 and 3600000"),
    ({"latency_ms": 1.5}, "latency_ms", "between 0 and 3600000"),
    ({"request_id": "a" * 101}, "request_id", "at most 100 visible characters"),
    ({"occurred_at": "yesterday"}, "occurred_at", "must be an ISO 8601 timestamp"),
    ({"occurred_at": 1763632800}, "occurred_at", "must be an ISO 8601 timestamp string"),
    ({"occurred_at": "2026-11-20T10:00:00"}, "occurred_at", "must include a UTC offset"),
    ({"occurred_at": "2026-11-20T12:06:00Z"}, "occurred_at", "is in the future"),
    ({"occurred_at": "2026-10-20T11:59:00Z"}, "occurred_at", "is older than 30 days"),
])
def test_each_invalid_field_is_named(change, field, detail):
    with pytest.raises(InvalidBatch) as refused:
        parse_batch({"records": [GOOD, {**GOOD, **change}]}, now=NOW)

    [error] = refused.value.errors
    assert (error.index, error.field, error.pointer) == (1, field, f"records[1].{field}")
    assert detail in error.detail


def test_a_missing_field_is_named():
    without_status = {k: v for k, v in GOOD.items() if k != "status"}

    with pytest.raises(InvalidBatch) as refused:
        parse_batch({"records": [without_status]}, now=NOW)

    assert [(e.index, e.field) for e in refused.value.errors] == [(0, "status")]


@pytest.mark.parametrize("payload", [None, [], {"records": "x"}, {"data": []}])
def test_a_report_without_a_records_list_is_refused(payload):
    with pytest.raises(InvalidBatch) as refused:
        parse_batch(payload, now=NOW)

    assert refused.value.errors[0].pointer == "records"


def test_a_small_clock_skew_is_accepted():
    assert parse_batch({"records": [{**GOOD, "occurred_at": "2026-11-20T12:04:00Z"}]},
                       now=NOW)[0].occurred_at == datetime(2026, 11, 20, 12, 4, tzinfo=UTC)


def test_an_empty_report_is_valid():
    assert parse_batch({"records": []}, now=NOW) == []
