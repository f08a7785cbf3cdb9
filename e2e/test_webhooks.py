"""An Owner connects a sandbox webhook endpoint from the onboarding banner, sends it a test
event that a real local receiver acknowledges, and checks its signature with the revealed
secret. Celery is eager in tests, so the delivery runs inline with the request."""

import re
from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect
from standardwebhooks import Webhook

from accounts.tests.factories import PASSWORD
from e2e.test_sandbox_review import sign_in
from keys.tests.factories import approve_sandbox, issue
from usage import services as usage
from webhooks.tests.factories import receiver


@pytest.fixture
def ready_for_webhooks(workspace, owner):
    """Sandbox access, a sandbox key and one sandbox call rolled up: the next lane is
    "Connect a webhook endpoint"."""
    approve_sandbox(workspace)
    with transaction.atomic():
        key, _ = issue(workspace, owner)
    usage.record_call(api_key=key, endpoint="/v1/accounts", method="GET", status=200,
                      latency_ms=12, request_id="req_e2e_webhooks_1",
                      occurred_at=timezone.now() - timedelta(minutes=2))
    usage.roll_up_usage()
    return workspace


@pytest.mark.django_db(transaction=True)
def test_owner_connects_a_webhook_endpoint_and_verifies_a_signed_test_event(
    page: Page, live_server, shoot, settings, ready_for_webhooks, owner
):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    workspace = ready_for_webhooks
    base = live_server.url
    banner = page.get_by_test_id("lane-banner")

    with receiver() as hook:
        sign_in(page, base, owner.email)
        page.goto(base + reverse("workspace_overview",
                                 args=[workspace.organization.slug, workspace.slug]))
        expect(banner.get_by_role("heading")).to_have_text("Connect a webhook endpoint")
        shoot("banner-connect-webhook")

        banner.get_by_role("link", name="Add a webhook endpoint").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Sandbox webhooks")
        expect(page.get_by_text("No sandbox webhook endpoints yet.")).to_be_visible()
        shoot("webhooks-empty")

        page.get_by_label("Endpoint URL").fill(hook.url)
        page.get_by_label("Description").fill("Local receiver")
        page.get_by_role("checkbox", name=re.compile(r"webhook\.test")).check()
        shoot("endpoint-form-filled")
        page.get_by_role("button", name="Add endpoint").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Webhook endpoint")
        expect(page.get_by_text(f"Endpoint {hook.url} added.")).to_be_visible()
        shoot("endpoint-added")

        page.get_by_role("button", name="Send test event").click()
        expect(page.get_by_text("Test event sent.")).to_be_visible()
        log = page.get_by_test_id("delivery-log")
        row = log.get_by_role("row").filter(has_text="webhook.test")
        expect(row).to_have_count(1)
        expect(row.get_by_text("Succeeded")).to_be_visible()
        expect(row.get_by_text(re.compile(r"HTTP 200"))).to_be_visible()
        shoot("test-event-acknowledged")

        page.get_by_role("link", name="Reveal signing secret").click()
        # allauth asks for the password again before the page that reveals the secret.
        page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
        shoot("reauthenticate")
        page.get_by_role("button", name=re.compile("Confirm|Continue|Reauthenticate")).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Signing secret")
        shoot("reveal-secret")
        page.get_by_role("button", name="Reveal secret").click()
        secret_box = page.get_by_label("Signing secret", exact=True)
        expect(secret_box).to_have_value(re.compile(r"^whsec_"))
        shoot("secret-revealed")
        secret = secret_box.input_value()

    (headers, body), = hook.received
    payload = Webhook(secret).verify(body, headers)
    assert payload["type"] == "webhook.test"
    assert headers["webhook-id"].startswith("msg_")

    page.get_by_role("link", name="Back to the endpoint").click()
    expect(banner.get_by_role("heading")).to_have_text("Review your usage")
    expect(banner).not_to_contain_text("Connect a webhook endpoint")
    shoot("banner-review-usage")
