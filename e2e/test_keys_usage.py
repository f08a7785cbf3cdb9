import json
import re
import urllib.request

import pytest
from playwright.sync_api import Page, expect

from accounts.tests.factories import PASSWORD
from keys.tests.factories import approve_sandbox
from usage.services import roll_up_usage
from workspaces.roles import Role
from workspaces.tests.factories import MembershipFactory, WorkspaceFactory


@pytest.mark.django_db(transaction=True)
def test_developer_issues_a_key_calls_the_sandbox_and_sees_the_call_in_usage(
    page: Page, live_server, shoot
):
    workspace = approve_sandbox(WorkspaceFactory(name="Payouts app", slug="payouts"))
    MembershipFactory(user=workspace.created_by, organization=workspace.organization,
                      roles=[Role.OWNER])
    developer = MembershipFactory(organization=workspace.organization, roles=[Role.DEVELOPER],
                                  user__full_name="Dana Lee").user
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    banner = page.get_by_test_id("lane-banner")

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(developer.email)
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(banner.get_by_role("heading")).to_have_text("Issue your first sandbox key")
    shoot("banner-first-key")

    banner.get_by_role("link", name="Issue a sandbox key").click()
    expect(page.get_by_label("Stage")).to_contain_text("Sandbox")
    page.get_by_label("Key name").fill("local dev")
    shoot("issue-form")
    page.get_by_role("button", name="Issue sandbox key").click()
    expect(page.get_by_text("This is the only time the secret is shown.")).to_be_visible()
    page.get_by_role("button", name="Copy key").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    secret = page.evaluate("navigator.clipboard.readText()")
    assert secret.startswith("sk_sandbox_")
    expect(page.get_by_text(f'-H "Authorization: Bearer {secret}"')).to_be_visible()
    shoot("secret-shown-once")

    request = urllib.request.Request(f"{live_server.url}/sandbox/v1/ping",
                                     headers={"Authorization": f"Bearer {secret}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        assert json.load(response)["environment"] == "sandbox"
    roll_up_usage()  # beat runs this every 5 s; the test runs it once, as a worker would

    page.get_by_role("link", name="I have copied it: back to keys").click()
    expect(page.get_by_text(secret)).to_have_count(0)
    expect(page.get_by_role("cell", name=re.compile("Never"))).to_have_count(0)
    page.get_by_role("navigation", name=workspace.organization.name).get_by_role(
        "link", name="Usage").click()
    summary = page.get_by_test_id("usage-summary")
    expect(summary.get_by_text("Requests")).to_be_visible()
    expect(summary.locator("dd").first).to_have_text("1")
    expect(page.get_by_role("rowheader", name="/v1/ping")).to_be_visible()
    shoot("usage-shows-the-call")
