"""An Owner makes a contractor Technical lead in one workspace only; the contractor sees
that workspace, gets 404 on the other and reads only its events in the audit log."""

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.tests.factories import PASSWORD, UserFactory
from workspaces.roles import Role
from workspaces.services.organizations import create_organization, create_workspace
from workspaces.tests.factories import MembershipFactory


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()


@pytest.mark.django_db(transaction=True)
def test_a_contractor_is_technical_lead_in_one_workspace_only(
    page: Page, browser, live_server, shoot
):
    owner = UserFactory(email="sam@acme.test", full_name="Sam Owner")
    acme = create_organization(actor=owner, name="Acme")
    create_workspace(actor=owner, organization=acme, name="Checkout")
    create_workspace(actor=owner, organization=acme, name="Payouts")
    contractor = UserFactory(email="cory@contractor.test", full_name="Cory Contractor")
    MembershipFactory(user=contractor, organization=acme, roles=[Role.VIEWER], restricted=True)
    base = live_server.url

    sign_in(page, base, owner.email)
    page.goto(f"{base}/o/{acme.slug}/members/")
    page.get_by_role("link", name="Edit Cory Contractor").click()
    expect(page.get_by_role("heading", name="Roles per workspace")).to_be_visible()
    page.get_by_label("Role in Checkout").select_option("technical_lead")
    shoot("owner-chooses-technical-lead-in-checkout")
    page.get_by_role("button", name="Save role in Checkout").click()
    expect(page.get_by_text("Cory Contractor in Checkout: Technical lead.")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile(r"^Checkout Technical lead"))).to_be_visible()
    expect(page.get_by_role("row", name=re.compile(r"^Payouts No access"))).to_be_visible()
    shoot("owner-sees-grants-per-workspace")

    cory = browser.new_context().new_page()
    sign_in(cory, base, contractor.email)
    cory.goto(f"{base}/access/")
    expect(cory.get_by_role("link", name="Checkout", exact=True)).to_be_visible()
    expect(cory.get_by_role("link", name="Payouts", exact=True)).to_have_count(0)
    cory.screenshot(path=str(shoot.folder / "contractor-1-access.png"), full_page=True)

    cory.get_by_role("link", name="Checkout", exact=True).click()
    expect(cory.get_by_text("your roles: Technical lead")).to_be_visible()
    cory.screenshot(path=str(shoot.folder / "contractor-2-checkout.png"), full_page=True)

    response = cory.goto(f"{base}/o/{acme.slug}/w/payouts/")
    assert response.status == 404
    cory.screenshot(path=str(shoot.folder / "contractor-3-payouts-404.png"), full_page=True)

    cory.goto(f"{base}/o/{acme.slug}/w/checkout/")
    cory.get_by_role("link", name="Audit log").click()
    expect(cory.get_by_role("heading", name="Audit log")).to_be_visible()
    expect(cory.get_by_text("created a workspace — Checkout")).to_be_visible()
    expect(cory.get_by_text("created a workspace — Payouts")).to_have_count(0)
    expect(cory.get_by_text("created the organization")).to_have_count(0)
    cory.screenshot(path=str(shoot.folder / "contractor-4-audit-log.png"), full_page=True)


@pytest.mark.django_db(transaction=True)
def test_an_owner_invites_a_contractor_to_two_workspaces_adding_a_row_in_the_page(
    page: Page, live_server, shoot
):
    from workspaces.models import Invitation

    owner = UserFactory(email="sam@acme.test", full_name="Sam Owner")
    acme = create_organization(actor=owner, name="Acme")
    checkout = create_workspace(actor=owner, organization=acme, name="Checkout")
    payouts = create_workspace(actor=owner, organization=acme, name="Payouts")
    base = live_server.url

    sign_in(page, base, owner.email)
    page.goto(f"{base}/o/{acme.slug}/invitations/")
    page.get_by_label("Email address").fill("cory@contractor.test")
    page.get_by_label(re.compile(r"Viewer:")).check()
    page.get_by_label("Only the workspaces in the rows below").check()
    page.get_by_label("Workspace in row 1").select_option(label="Checkout")
    page.get_by_label("Role in row 1").select_option("technical_lead")
    page.get_by_role("button", name="Add a workspace").click()
    expect(page.get_by_label("Workspace in row 2")).to_be_focused()
    expect(page.get_by_label("Role in row 2")).to_have_value("")
    page.get_by_label("Workspace in row 2").select_option(label="Payouts")
    shoot("owner-invites-to-two-workspaces")
    page.get_by_role("button", name="Send invitation").click()

    expect(page.get_by_text("Invitation sent to cory@contractor.test.")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile(r"cory@contractor.test.*Checkout, Payouts")))\
        .to_be_visible()
    invitation = Invitation.objects.get()
    assert invitation.workspace_roles == {str(checkout.pk): ["technical_lead"]}
    assert {w.pk for w in invitation.workspaces.all()} == {checkout.pk, payouts.pk}
