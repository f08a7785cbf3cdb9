"""A person reads their whole operator path on the Access page: the account's steps,
then one line per workspace at its current lane, and follows the one button."""

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.tests.factories import UserFactory
from e2e.test_workspace_roles import sign_in
from onboarding.services import request_sandbox_access
from workspaces.services.organizations import create_organization, create_workspace


@pytest.mark.django_db(transaction=True)
def test_an_owner_reads_the_path_of_each_workspace_and_takes_the_next_step(
    page: Page, live_server, shoot
):
    owner = UserFactory(email="sam@acme.test", full_name="Sam Owner")
    acme = create_organization(actor=owner, name="Acme")
    checkout = create_workspace(actor=owner, organization=acme, name="Checkout")
    create_workspace(actor=owner, organization=acme, name="Payouts")
    request_sandbox_access(actor=owner, workspace=checkout, use_case="x" * 30,
                           expected_monthly_calls=5, product_areas=["accounts"])
    base = live_server.url

    sign_in(page, base, owner.email)
    expect(page).to_have_url(re.compile(r"/access/$"))
    path = page.get_by_test_id("operator-path")
    expect(path.get_by_role("list", name="Your account")).to_contain_text("Signed in")
    expect(path.locator("summary")).to_have_text([
        re.compile(r"Acme · Checkout\s+· Issue your first sandbox key\s+\(1 of 7 done\)"),
        re.compile(r"Acme · Payouts\s+· Request sandbox access\s+\(0 of 7 done\)"),
    ])
    shoot("access-path")

    # The second workspace's line opens to its steps.
    path.locator("summary", has_text="Payouts").click()
    payouts = path.get_by_role("list", name="Payouts")
    expect(payouts.locator("li").first).to_contain_text("Your next step")
    shoot("access-path-payouts-open")

    path.get_by_role("list", name="Checkout").get_by_role(
        "link", name="Issue a sandbox key").click()
    expect(page).to_have_url(re.compile(r"/w/checkout/keys/sandbox/$"))
    shoot("followed-the-next-step")
