"""After the last approval, production is where the workspace lives: its usage page shows
the calls the gateway reports for live keys, and sandbox is one click away."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from usage import services
from usage.tests.factories import make_key
from usage.tests.test_page import summary

TOKEN = {"HTTP_AUTHORIZATION": "Bearer dev-gateway-token"}


@pytest.fixture
def live(workspace):
    workspace.sandbox_approved_at = workspace.production_approved_at = timezone.now()
    workspace.save()
    return workspace


def report(client, key, request_id, status=200):
    body = [{"key_id": key.public_id, "endpoint": "/v1/accounts", "method": "GET",
             "status": status, "latency_ms": 42, "request_id": request_id,
             "occurred_at": (timezone.now() - timedelta(minutes=1)).isoformat()}]
    response = client.post(reverse("gateway_usage"), json.dumps({"records": body}),
                           content_type="application/json", **TOKEN)
    assert response.json() == {"accepted": 1, "duplicates": 0}


def page(client, workspace, *environment):
    name = "usage_environment" if environment else "usage"
    return client.get(reverse(name, args=[workspace.organization.slug, workspace.slug,
                                          *environment]))


@pytest.mark.django_db
def test_gateway_reported_live_calls_show_on_the_production_usage_page(client, live, owner):
    live_key = make_key(live, environment="production", name="Live")
    test_key = make_key(live, name="Backend")
    report(client, live_key, "req_live_1")
    report(client, live_key, "req_live_2", status=503)
    services.record_call(api_key=test_key, endpoint="/v1/ping", method="GET", status=200,
                         latency_ms=3, request_id="req_sandbox")
    services.roll_up_usage()
    client.force_login(owner)

    production = page(client, live)
    sandbox = page(client, live, "sandbox")

    text = production.content.decode()
    assert "<h1>Production usage</h1>" in text
    assert "as the API gateway reports them for live keys" in text
    assert summary(production)["Requests"] == "2"
    assert summary(production)["Error rate"] == "50.0%"
    assert "Live (key_" in text and "Backend (key_" not in text
    assert 'stage-band--production' in text
    assert summary(sandbox)["Requests"] == "1"
    assert "<h1>Sandbox usage</h1>" in sandbox.content.decode()
    assert 'stage-band--sandbox' in sandbox.content.decode()


@pytest.mark.django_db
def test_before_approval_the_usage_page_is_the_sandbox_one(client, workspace, owner):
    workspace.sandbox_approved_at = timezone.now()
    workspace.save()
    client.force_login(owner)

    text = page(client, workspace).content.decode()
    production = page(client, workspace, "production").content.decode()

    assert "<h1>Sandbox usage</h1>" in text
    assert "No production calls in the last 24 hours" in production
    assert "live keys exist once the production review is approved" in production
    assert page(client, workspace, "staging").status_code == 404


@pytest.mark.django_db
def test_the_production_export_holds_live_calls_only(client, live, owner):
    live_key = make_key(live, environment="production", name="Live")
    report(client, live_key, "req_live_1")
    services.roll_up_usage()
    client.force_login(owner)

    response = client.get(reverse("usage_environment_export", args=[
        live.organization.slug, live.slug, "production"]), {"range": "30d"})

    rows = b"".join(response.streaming_content).decode().splitlines()
    assert "-production-30d-" in response["Content-Disposition"]
    assert len(rows) == 2 and "production" in rows[1]
