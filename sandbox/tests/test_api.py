import pytest
from django.utils import timezone

from keys import services
from keys.tests.factories import approve_sandbox, issue


@pytest.fixture
def key(workspace, owner):
    return issue(approve_sandbox(workspace), owner, scopes=["accounts:read"])


def get(client, path, secret=None, **params):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"} if secret else {}
    return client.get(f"/sandbox/v1/{path}", params, **headers)


@pytest.mark.django_db
def test_ping_answers_with_the_key_and_a_request_id(client, key):
    api_key, secret = key

    response = get(client, "ping", secret)

    assert response.status_code == 200
    assert response.json() == {"ok": True, "environment": "sandbox", "key_id": api_key.public_id}
    assert response["Request-Id"].startswith("req_")


@pytest.mark.django_db
@pytest.mark.parametrize(("mangle", "status", "code"), [
    (lambda s: None, 401, "MALFORMED_KEY"),
    (lambda s: s[:-3], 401, "MALFORMED_KEY"),
    (lambda s: s[:-1] + ("A" if s[-1] != "A" else "B"), 401, "BAD_CHECKSUM"),
])
def test_bad_keys_get_problem_json_with_their_own_code(client, key, mangle, status, code):
    response = get(client, "ping", mangle(key[1]))

    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert (body["code"], body["status"]) == (code, status)
    assert body["request_id"] == response["Request-Id"]


@pytest.mark.django_db
def test_a_production_key_is_refused_in_the_sandbox(client, workspace, owner):
    workspace.production_approved_at = timezone.now()
    workspace.save()
    _, secret = issue(approve_sandbox(workspace), owner, environment="production")

    response = get(client, "ping", secret)

    assert (response.status_code, response.json()["code"]) == (401, "WRONG_ENVIRONMENT")


@pytest.mark.django_db
def test_scopes_are_enforced(client, key):
    assert get(client, "accounts", key[1]).status_code == 200
    response = get(client, "transactions", key[1])

    assert (response.status_code, response.json()["code"]) == (403, "FORBIDDEN")


@pytest.mark.django_db
def test_revoked_key_fails_on_the_next_call(client, key, workspace, owner):
    assert get(client, "ping", key[1]).status_code == 200

    services.revoke_key(actor=owner, workspace=workspace, public_id=key[0].public_id)

    assert get(client, "ping", key[1]).json()["code"] == "REVOKED"


@pytest.mark.django_db
def test_accounts_paginate_with_cursors_and_bad_input_is_a_clear_400(client, key):
    first = get(client, "accounts", key[1], limit=2).json()
    second = get(client, "accounts", key[1], limit=2, cursor=first["next_cursor"]).json()

    assert len(first["data"]) == 2 and first["next_cursor"]
    assert len(second["data"]) == 1 and second["next_cursor"] is None
    assert {a["id"] for a in first["data"]}.isdisjoint(a["id"] for a in second["data"])
    for params in [{"limit": "0"}, {"limit": "x"}, {"cursor": "nope"}]:
        bad = get(client, "accounts", key[1], **params)
        assert (bad.status_code, bad.json()["code"]) == (400, "INVALID_REQUEST")


@pytest.mark.django_db
def test_the_sandbox_api_is_read_only(client, key):
    response = client.post("/sandbox/v1/ping", HTTP_AUTHORIZATION=f"Bearer {key[1]}")

    assert (response.status_code, response.json()["code"]) == (405, "METHOD_NOT_ALLOWED")


@pytest.mark.django_db
def test_each_call_is_counted_in_usage_with_its_status(client, key):
    from usage.models import CallRecord

    get(client, "ping", key[1])
    get(client, "transactions", key[1])

    rows = list(CallRecord.objects.order_by("id").values_list("endpoint", "status"))
    assert rows == [("/v1/ping", 200), ("/v1/transactions", 403)]


@pytest.mark.django_db
def test_unauthenticated_answers_name_the_bearer_scheme(client):
    response = get(client, "ping")

    assert response["WWW-Authenticate"] == 'Bearer realm="sandbox"'


@pytest.mark.django_db
def test_a_key_over_its_rate_limit_gets_429_with_retry_after(client, key, settings, monkeypatch):
    settings.SANDBOX_RATE_LIMIT_PER_SECOND = 3
    monkeypatch.setattr("sandbox.views.current_second", lambda: 1_800_000_000)

    responses = [get(client, "ping", key[1]) for _ in range(4)]

    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert responses[-1]["Retry-After"] == "1"
    assert responses[-1].json()["code"] == "RATE_LIMITED"
    monkeypatch.setattr("sandbox.views.current_second", lambda: 1_800_000_001)
    assert get(client, "ping", key[1]).status_code == 200
