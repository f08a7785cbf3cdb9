import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

PASSWORD = "a-long-and-unusual-password-7"


def confirmation_link(address: str) -> str:
    message = next(m for m in reversed(mail.outbox) if address in m.to)
    return re.search(r"https?://\S+/accounts/confirm-email/\S+/", message.body).group(0)


@pytest.mark.django_db(transaction=True)
def test_newcomer_goes_from_sign_up_to_a_sandbox_key_in_two_forms_after_verifying(
    page: Page, live_server, shoot
):
    page.goto(f"{live_server.url}/docs/")
    expect(page.get_by_label("Stage")).to_contain_text("Public docs")
    shoot("docs")

    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Full name").fill("Dana Lee")
    page.get_by_label("Email").fill("dana@acme.test")
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.get_by_label(re.compile(r"^Password \(again\):?$")).fill(PASSWORD)
    shoot("signup-filled")
    page.get_by_role("button", name="Sign Up").click()
    expect(page.get_by_role("heading", name="Verify Your Email Address")).to_be_visible()
    shoot("verification-sent")

    page.goto(confirmation_link("dana@acme.test").replace("http://testserver", live_server.url))
    shoot("confirm-email")
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(re.compile(r"/access/$"))
    page.get_by_role("button", name="Sign out").click()
    shoot("signed-out")

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill("dana@acme.test")
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()

    expect(page).to_have_url(re.compile(r"/access/$"))
    expect(page.get_by_role("heading", name="Not attached to an organization")).to_be_visible()
    expect(page.get_by_label("Stage")).to_contain_text("Account")
    shoot("access-not-attached")

    # The first run: one form for the organization, its workspace and the sandbox request.
    page.get_by_test_id("lane-banner").get_by_role("link", name="Create an organization").click()
    page.get_by_label("Organization name").fill("Acme")
    page.get_by_label("First workspace").fill("Payouts app")
    page.get_by_label("I'm building the integration: request sandbox access now").check()
    page.get_by_label("What are you building?").fill(
        "A payouts dashboard for small shops; we read transactions daily.")
    page.get_by_label("Expected API calls per month").fill("20000")
    page.get_by_label("Transactions").check()
    shoot("first-run-filled")
    page.get_by_role("button", name="Create organization").click()

    banner = page.get_by_test_id("lane-banner")
    expect(banner.get_by_role("heading")).to_have_text("Issue your first sandbox key")
    expect(page.get_by_label("Stage")).to_contain_text("Sandbox")
    shoot("workspace-first-key")

    banner.get_by_role("link", name="Issue a sandbox key").click()
    page.get_by_label("Key name").fill("local dev")
    page.get_by_role("button", name="Issue sandbox key").click()
    expect(page.get_by_text("This is the only time the secret is shown.")).to_be_visible()
    shoot("first-sandbox-key")
