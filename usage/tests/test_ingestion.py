import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from usage.models import CallRecord
from usage.tests.factories import make_key

TOKEN = {"HTTP_AUTHORIZATION": "Bearer dev-gateway-token"}


@pytest.fixture
def keys(workspace):
    return make_key(workspace, name="Sandbox"), make_key(workspace, environment="production",
                                                          name="Live")


def item(key, request_id: str, **changes) -> dict:
    return {"key_id": key.public_id, "endpoint": "/v1/transactions", "method": "GET",
            "status": 200, "latency_ms": 42, "request_id": request_id,
            "occurred_at": (timezone.now() - timedelta(minutes=1)).isoformat(), **changes}


def post(client, payload, **headers):
    body = payload if isinstance(payload, str | bytes) else json.dumps(payload)
    return client.post(reverse("gateway_usage"), body, content_type="application/json",
                       **{**TOKEN, **headers})


@pytest.mark.django_db
@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", "dev-gateway-token x"])
def test_only_the_gateway_may_report_usage(client, keys, authorization):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}

    response = client.post(reverse("gateway_usage"), json.dumps({"records": []}),
                           content_type="application/json", **headers)

    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHENTICATED"


@pytest.mark.django_db
def test_a_report_is_stored_with_the_keys_workspace_and_environment(client, keys, workspace):
    sandbox, live = keys
    occurred = (timezone.now() - timedelta(hours=2)).replace(microsecond=0)

    response = post(client, {"records": [
        item(sandbox, "req_a", method="post", status=201, occurred_at=occurred.isoformat()),
        item(live, "req_b", endpoint="/v1/accounts", status=503, latency_ms=1500),
    ]})

    assert (response.status_code, response.json()) == (200, {"accepted": 2, "duplicates": 0})
    stored = {r.request_id: r for r in CallRecord.objects.all()}
    assert (stored["req_a"].workspace, stored["req_a"].environment, stored["req_a"].method,
            stored["req_a"].status, stored["req_a"].occurred_at) == (
        workspace, "sandbox", "POST", 201, occurred)
    assert (stored["req_b"].environment, stored["req_b"].endpoint,
            stored["req_b"].latency_ms) == ("production", "/v1/accounts", 1500)


@pytest.mark.django_db
def test_a_repeated_report_is_counted_as_duplicates_and_stored_once(client, keys):
    sandbox, _ = keys
    payload = {"records": [item(sandbox, "req_1"), item(sandbox, "req_2")]}
    post(client, payload)

    again = post(client, {"records": [*payload["records"], item(sandbox, "req_3"),
                                      item(sandbox, "req_3")]})

    assert again.json() == {"accepted": 1, "duplicates": 3}
    assert CallRecord.objects.count() == 3


@pytest.mark.django_db
def test_one_bad_item_refuses_the_whole_report_and_names_it(client, keys):
    sandbox, _ = keys

    response = post(client, {"records": [item(sandbox, "req_ok"),
                                         item(sandbox, "req_bad", status="200")]})

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert (body["code"], body["index"], body["field"]) == ("INVALID_REQUEST", 1, "status")
    assert body["detail"] == ("records[1].status must be an integer HTTP status between 100 "
                              "and 599. Nothing was stored.")
    assert CallRecord.objects.count() == 0


@pytest.mark.django_db
def test_every_failing_field_is_listed(client, keys):
    sandbox, _ = keys

    body = post(client, {"records": [
        item(sandbox, "req_0"), "not an object",
        item(sandbox, "", endpoint="v1/no-slash", occurred_at="2026-11-20T10:00:00")]}).json()

    assert [(e["index"], e["field"]) for e in body["errors"]] == [
        (1, None), (2, "endpoint"), (2, "request_id"), (2, "occurred_at")]
    assert body["error_count"] == 4


@pytest.mark.django_db
def test_an_unknown_key_refuses_the_report(client, keys):
    sandbox, _ = keys

    response = post(client, {"records": [item(sandbox, "req_0"),
                                         {**item(sandbox, "req_1"), "key_id": "key_nobody"}]})

    assert response.status_code == 400
    assert (response.json()["index"], response.json()["field"]) == (1, "key_id")
    assert response.json()["detail"].startswith("records[1].key_id is not a key")
    assert CallRecord.objects.count() == 0


@pytest.mark.django_db
def test_more_than_a_thousand_records_are_refused_naming_the_first_extra(client, keys):
    sandbox, _ = keys

    response = post(client, {"records": [item(sandbox, f"req_{n}") for n in range(1001)]})

    assert response.status_code == 400
    assert response.json()["index"] == 1000
    assert CallRecord.objects.count() == 0
    assert post(client, {"records": [item(sandbox, f"req_{n}") for n in range(1000)]}
                ).json() == {"accepted": 1000, "duplicates": 0}


@pytest.mark.django_db
def test_a_body_over_one_megabyte_is_refused(client, keys):
    sandbox, _ = keys
    padded = {"records": [item(sandbox, "req_0")], "padding": "x" * (1024 * 1024)}

    response = post(client, padded)

    assert response.status_code == 413
    assert response.json()["code"] == "PAYLOAD_TOO_LARGE"
    assert CallRecord.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("body", ["{not json", "[]", '{"records": {}}', b"\xff\xfe"])
def test_a_malformed_body_is_refused(client, keys, body):
    response = post(client, body)

    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_REQUEST"


@pytest.mark.django_db
def test_only_post_is_accepted(client):
    response = client.get(reverse("gateway_usage"), **TOKEN)

    assert response.status_code == 405


@pytest.mark.django_db
def test_reports_write_no_audit_events_and_cost_a_fixed_number_of_queries(
        client, keys, django_assert_max_num_queries):
    sandbox, live = keys
    records = [item(sandbox if n % 2 else live, f"req_{n}") for n in range(500)]

    with django_assert_max_num_queries(5):  # keys lookup, savepoint, insert, release
        assert post(client, {"records": records}).json()["accepted"] == 500

    assert AuditEvent.objects.count() == 0
