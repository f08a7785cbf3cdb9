import re

import pytest
from playwright.sync_api import Page, expect

from accounts.tests.factories import PASSWORD, UserFactory
from e2e.conftest import sign_in_to_admin
from onboarding.tests.factories import TOTP_SECRET, turn_on_mfa


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()


@pytest.mark.django_db(transaction=True)
def test_owner_requests_sandbox_access_and_a_reviewer_approves_it_in_the_admin(
    page: Page, browser, live_server, shoot, settings
):
    settings.SANDBOX_AUTO_APPROVE = False
    owner = UserFactory(email="sam@acme.test", full_name="Sam Owner")
    # Staff reach the admin only with a second factor.
    turn_on_mfa(UserFactory(email="rita@platform.test", full_name="Rita Reviewer",
                            is_staff=True, is_superuser=True))
    base = live_server.url
    banner = page.get_by_test_id("lane-banner")

    sign_in(page, base, owner.email)
    page.get_by_role("link", name="Create an organization").first.click()
    page.get_by_label("Organization name").fill("Acme Payments")
    page.get_by_role("button", name="Create organization").click()
    page.get_by_role("button", name="Create workspace").click()
    expect(banner.get_by_role("heading")).to_have_text("Request sandbox access")
    expect(page.get_by_label("Stage")).to_contain_text("Account")
    shoot("banner-request-sandbox")

    banner.get_by_role("link", name="Request sandbox access").click()
    page.get_by_label("What are you building?").fill(
        "A payouts dashboard for small shops that reads their transactions daily.")
    page.get_by_label("Expected API calls per month").fill("20000")
    page.get_by_label("Transactions").check()
    shoot("sandbox-request-filled")
    page.get_by_role("button", name="Request sandbox access").click()
    expect(banner.get_by_role("heading")).to_have_text("Sandbox access is being reviewed")
    expect(page.get_by_text("Waiting for review")).to_be_visible()
    shoot("waiting-for-review")

    reviewer = browser.new_context().new_page()
    sign_in_to_admin(reviewer, base, "rita@platform.test", PASSWORD, TOTP_SECRET)
    expect(reviewer.get_by_role("link", name="1 sandbox request")).to_be_visible()
    reviewer.screenshot(path=str(shoot.folder / "reviewer-queue-count.png"), full_page=True)
    reviewer.goto(f"{base}/admin/onboarding/sandboxrequest/?status__exact=pending")
    reviewer.get_by_role("checkbox", name="Select this object for an action").first.check()
    reviewer.get_by_label("Action:").select_option(label="Approve selected sandbox requests")
    reviewer.get_by_role("button", name="Go").click()
    expect(reviewer.get_by_text("Approved 1 request(s).")).to_be_visible()
    reviewer.screenshot(path=str(shoot.folder / "reviewer-approved.png"), full_page=True)

    page.reload()
    expect(banner.get_by_role("heading")).to_have_text("Issue your first sandbox key")
    expect(page.get_by_label("Stage")).to_contain_text("Sandbox")
    shoot("banner-first-key")
