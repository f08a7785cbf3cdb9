"""A developer sends a sample key.created event to a sandbox endpoint, reads the request
body and headers in the delivery log, sends it again, finds both on the Events page, and
deletes the endpoint. Celery is eager in tests, so deliveries run inline."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from e2e.test_sandbox_review import sign_in
from keys.tests.factories import approve_sandbox
from webhooks.tests.factories import add_endpoint, receiver
from workspaces.roles import Role


@pytest.mark.django_db(transaction=True)
def test_developer_sends_a_sample_reads_what_was_sent_resends_and_deletes_the_endpoint(
    page: Page, live_server, shoot, settings, workspace, owner, membership_factory
):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    approve_sandbox(workspace)
    developer = membership_factory(organization=workspace.organization,
                                   roles=[Role.DEVELOPER]).user
    base = live_server.url
    args = [workspace.organization.slug, workspace.slug, "sandbox"]

    with receiver() as hook:
        endpoint = add_endpoint(workspace, owner, hook.url,
                                event_types=["key.created", "key.revoked"])
        sign_in(page, base, developer.email)
        page.goto(base + reverse("webhook_endpoint", args=[*args, endpoint.public_id]))
        expect(page.get_by_role("heading", level=1)).to_have_text("Webhook endpoint")

        # A sample of a type the endpoint receives, marked as a test.
        page.get_by_label("Event type").first.select_option("key.created")
        shoot("sample-chosen")
        page.get_by_role("button", name="Send test event").click()
        expect(page.get_by_text("A key.created example goes to this endpoint")).to_be_visible()
        row = page.get_by_test_id("delivery-log").get_by_role("row").filter(
            has_text="key.created")
        expect(row.get_by_text("Succeeded")).to_be_visible()

        # What was sent: the headers (signature, never the secret) and the body.
        row.locator("summary").first.click()  # attempt #1, HTTP 200
        expect(row.get_by_text(re.compile(r"webhook-signature: v1,"))).to_be_visible()
        expect(row.get_by_text(re.compile(r'"test":true'))).to_be_visible()
        expect(row.get_by_text(re.compile(r'"key_id":"key_8Tq2mD0vX1"'))).to_be_visible()
        expect(page.get_by_text("whsec_")).to_have_count(0)
        shoot("request-headers-and-body")

        # Send it again: a second delivery of the same event, same webhook-id.
        row.get_by_role("button", name="Send again").click()
        expect(page.get_by_text("Sending now")).to_be_visible()
        expect(page.get_by_test_id("delivery-log").get_by_role("row").filter(
            has_text="replay")).to_have_count(1)
        shoot("sent-again")

        # The Events page shows the event with its deliveries.
        page.get_by_role("link", name="← Sandbox webhooks").click()
        page.get_by_role("link", name="All sandbox events").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Sandbox webhook events")
        expect(page.get_by_test_id("event-log").get_by_text("(sent again)")).to_be_visible()
        shoot("events-page")

    ((first_headers, first_body), (second_headers, second_body)) = hook.received
    assert first_body == second_body
    assert first_headers["webhook-id"] == second_headers["webhook-id"]

    # Delete the endpoint after confirming.
    page.goto(base + reverse("webhook_endpoint", args=[*args, endpoint.public_id]))
    page.get_by_role("link", name="Delete this endpoint…").click()
    expect(page.get_by_text("This cannot be undone.")).to_be_visible()
    shoot("delete-confirmation")
    page.get_by_role("button", name="Delete endpoint").click()
    expect(page.get_by_text(f"Endpoint {hook.url} deleted.")).to_be_visible()
    expect(page.get_by_text("No sandbox webhook endpoints yet.")).to_be_visible()
    shoot("endpoint-deleted")
