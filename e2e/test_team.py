import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from accounts.tests.factories import PASSWORD, UserFactory

INVITEE_PASSWORD = "billing-is-my-middle-name-9"


def sign_in(page: Page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label(re.compile(r"^Password:?$")).fill(password)
    page.get_by_role("button", name="Sign In").click()


@pytest.mark.django_db(transaction=True)
def test_owner_builds_a_team_and_a_billing_contact_joins_from_the_emailed_link(
    page: Page, browser, live_server, shoot
):
    owner = UserFactory(email="sam@acme.test", full_name="Sam Owner")
    base = live_server.url

    sign_in(page, base, owner.email, PASSWORD)
    expect(page.get_by_role("heading", name="Not attached to an organization")).to_be_visible()
    shoot("owner-not-attached")
    page.get_by_test_id("lane-banner").get_by_role("link", name="Create an organization").click()
    page.get_by_label("Organization name").fill("Acme Payments")
    page.get_by_role("button", name="Create organization").click()
    expect(page.get_by_label("Workspace name")).to_have_value("Acme Payments integration")
    shoot("workspace-suggested")
    page.get_by_role("button", name="Create workspace").click()
    expect(page.get_by_role("heading", name="Acme Payments integration")).to_be_visible()

    page.get_by_role("link", name="Invitations").click()
    page.get_by_label("Email address").fill("dana@acme.test")
    page.get_by_label(re.compile(r"Billing contact:")).check()
    shoot("invite-filled")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Invitation sent to dana@acme.test.")).to_be_visible()
    expect(page.get_by_role("cell", name="dana@acme.test by Sam Owner")).to_be_visible()
    shoot("invitation-pending")

    link = re.search(r"https?://\S+/invitations/\S+/", mail.outbox[-1].body).group(0)
    invitee = browser.new_context().new_page()
    invitee.goto(link)
    expect(invitee.get_by_role("heading", name="Join Acme Payments")).to_be_visible()
    invitee.screenshot(path=str(shoot.folder / "invitee-1-invitation.png"), full_page=True)
    invitee.get_by_role("link", name="Create account").click()
    invitee.get_by_label("Full name").fill("Dana Lee")
    invitee.get_by_label("Email").fill("dana@acme.test")
    invitee.get_by_label(re.compile(r"^Password:?$")).fill(INVITEE_PASSWORD)
    invitee.get_by_label(re.compile(r"^Password \(again\):?$")).fill(INVITEE_PASSWORD)
    invitee.get_by_role("button", name="Sign Up").click()

    expect(invitee.get_by_role("heading", name="Acme Payments", exact=True)).to_be_visible()
    expect(invitee.get_by_text("Your roles: Billing contact")).to_be_visible()
    invitee.screenshot(path=str(shoot.folder / "invitee-2-attached.png"), full_page=True)
    invitee.get_by_role("link", name="Billing").click()
    invitee.get_by_label("Legal name").fill("Acme Payments GmbH")
    invitee.get_by_label("Country").fill("de")
    invitee.get_by_role("button", name="Save billing profile").click()
    expect(invitee.get_by_text("Billing profile saved.")).to_be_visible()
    expect(invitee.get_by_label("Legal name")).to_have_value("Acme Payments GmbH")
    invitee.screenshot(path=str(shoot.folder / "invitee-3-billing.png"), full_page=True)

    invitee.goto(f"{base}/o/acme-payments/w/acme-payments-integration/keys/sandbox/")
    expect(invitee.get_by_role("heading", name="You can't do that here")).to_be_visible()
    expect(invitee.get_by_text("To see sandbox keys and webhooks in Acme Payments")
           ).to_be_visible()
    expect(invitee.get_by_text("Ask Sam Owner (Owner)")).to_be_visible()
    invitee.screenshot(path=str(shoot.folder / "invitee-4-keys-forbidden.png"), full_page=True)
    invitee.goto(f"{base}/o/acme-payments/members/")
    expect(invitee.get_by_role("heading", name="You can't do that here")).to_be_visible()
