"""The production path with separate people, from emailed invitations to the first live
call on the production usage page."""

import json
import re
import urllib.request
from datetime import date, timedelta

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.tests.factories import PASSWORD, UserFactory
from audit.models import Action
from audit.services import record
from e2e.conftest import sign_in_to_admin, sign_in_with_totp
from e2e.test_production_review import consent_screen_png, fill_consent_review, sign_in
from keys.models import KeyPolicy
from onboarding.tests.factories import (
    TOTP_SECRET,
    pass_integration,
    require_mfa_of_everyone,
    turn_on_mfa,
)
from usage import services as usage_services
from usage.models import WorkspaceUsage
from workspaces.roles import Role
from workspaces.tests.factories import MembershipFactory, WorkspaceFactory

INVITEES = [("tess@acme.test", "Tess Lead", "Technical lead"),
            ("dana@acme.test", "Dana Lee", "Billing contact"),
            ("cora@acme.test", "Cora Compliance", "Compliance / audit"),
            ("sam@acme.test", "Sam Secure", "Security owner")]


def gateway(base: str, path: str, body: dict, token: str) -> dict:
    """What the platform's API gateway sends: a POST with its service token."""
    request = urllib.request.Request(
        f"{base}/api/v1/{path}", data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def join_from_email(browser, shoot, email: str, name: str) -> Page:
    """The invitee opens the emailed link, creates an account and lands attached."""
    (message,) = [m for m in mail.outbox if email in m.to]
    link = re.search(r"https?://\S+/invitations/\S+/", message.body).group(0)
    person = browser.new_context().new_page()
    person.goto(link)
    person.get_by_role("link", name="Create account").click()
    person.get_by_label("Full name").fill(name)
    person.get_by_label("Email").fill(email)
    person.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    person.get_by_label(re.compile(r"^Password \(again\):?$")).fill(PASSWORD)
    person.get_by_role("button", name="Sign Up").click()
    expect(person.get_by_role("heading", name="Acme Payments", exact=True)).to_be_visible()
    person.screenshot(path=str(shoot.folder / f"joined-{email.split('@')[0]}.png"),
                      full_page=True)
    return person


def confirm_password_if_asked(person: Page) -> None:
    """allauth's reauthentication step, when the last sign-in is not recent."""
    person.wait_for_load_state()
    field = person.get_by_label(re.compile(r"^Password:?$"))
    if "reauthenticate" in person.url and field.count():
        field.fill(PASSWORD)
        person.get_by_role("button", name=re.compile("Confirm|Continue|Reauthenticate")).click()


@pytest.mark.django_db(transaction=True)
def test_separate_people_take_a_workspace_to_production_and_see_its_first_live_call(
    page: Page, browser, live_server, shoot, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRODUCTION_API_URL = "https://api.acme.test/v1/"
    workspace = WorkspaceFactory(name="Payouts", organization__name="Acme Payments")
    organization = workspace.organization
    owner = organization.created_by
    MembershipFactory(user=owner, organization=organization, roles=[Role.OWNER])
    workspace.sandbox_approved_at = workspace.created_at
    workspace.save(update_fields=["sandbox_approved_at"])
    pass_integration(workspace)  # the sandbox path: calls, a key, an acknowledged webhook
    WorkspaceUsage.objects.create(workspace=workspace, first_call_at=workspace.created_at,
                                  usage_reviewed_at=workspace.created_at)
    UserFactory(email="rita@platform.test", full_name="Rita Reviewer", is_staff=True,
                is_superuser=True)
    turn_on_mfa(UserFactory._meta.model.objects.get(email="rita@platform.test"))
    image = tmp_path / "consent.png"
    image.write_bytes(consent_screen_png())
    base = live_server.url
    org_url = f"{base}/o/{organization.slug}"
    ws_url = f"{org_url}/w/{workspace.slug}"

    # The Owner invites four people, each with their role, by email.
    sign_in(page, base, owner.email)
    for email, _, role in INVITEES:
        page.goto(f"{org_url}/invitations/")
        page.get_by_label("Email address").fill(email)
        page.get_by_label(re.compile(rf"{re.escape(role)}:")).check()
        page.get_by_role("button", name="Send invitation").click()
        expect(page.get_by_text(f"Invitation sent to {email}.")).to_be_visible()
    shoot("owner-invited-four")
    people = {email: join_from_email(browser, shoot, email, name)
              for email, name, _ in INVITEES}
    lead, billing, compliance, security = (people[e] for e, _, _ in INVITEES)

    # The Security owner sets the key policy, after confirming their password.
    security.goto(f"{org_url}/key-policy/")
    security.get_by_role("link", name="Change the key policy").click()
    confirm_password_if_asked(security)
    security.get_by_label("Maximum key age (days)").nth(1).fill("60")
    security.get_by_label("Every key must have an expiry").nth(1).check()
    security.get_by_label("Longest expiry allowed (days)").nth(1).fill("90")
    security.get_by_role("button", name="Save key policy").click()
    expect(security.get_by_text("Key policy saved.")).to_be_visible()
    expect(security.get_by_role("row", name=re.compile("^Production"))).to_contain_text(
        "60 days")
    security.screenshot(path=str(shoot.folder / "key-policy.png"), full_page=True)
    assert KeyPolicy.objects.get(environment="production").max_expiry_days == 90

    # The compliance contact starts the review and fills in the consent review.
    compliance.goto(f"{ws_url}/review/")
    compliance.get_by_role("button", name="Start the production review").click()
    compliance.get_by_role("link", name="Open consent review").first.click()
    fill_consent_review(compliance, image, purpose="Show balances.",
                        terms="https://acme.example.com/terms")
    compliance.get_by_role("button", name="Submit for review").click()  # saves first
    compliance.screenshot(path=str(shoot.folder / "consent-submitted.png"), full_page=True)

    # The billing contact completes the billing profile and picks a plan.
    billing.goto(f"{org_url}/billing/")
    for label, value in [("Legal name", "Acme Payments GmbH"), ("Address", "Hauptstr. 1"),
                         ("City", "Berlin"), ("Postal code", "10115"), ("Country", "de"),
                         ("Tax ID", "DE123456789"), ("Billing email", "billing@acme.test")]:
        field = billing.get_by_label(re.compile(rf"^{label}"))
        if field.count():
            field.first.fill(value)
    billing.get_by_role("button", name="Save billing profile").click()
    expect(billing.get_by_text("Billing profile saved.")).to_be_visible()
    billing.goto(f"{ws_url}/review/billing/")
    billing.get_by_role("radio", name=re.compile("Growth")).check()
    billing.get_by_role("button", name="Submit for review").click()
    billing.screenshot(path=str(shoot.folder / "billing-submitted.png"), full_page=True)

    # Nobody submits the integration evidence: the portal did, from sandbox activity.
    lead.goto(f"{ws_url}/review/integration/")
    expect(lead.get_by_text("Successful call to /v1/ping")).to_be_visible()
    expect(lead.get_by_text(re.compile("Submitted by the portal, from sandbox activity"))
           ).to_be_visible()
    lead.screenshot(path=str(shoot.folder / "integration-submitted.png"), full_page=True)

    # Everyone has two-factor on and an Owner requires it; the audit log was exported;
    # the security owner answers the questionnaire.
    require_mfa_of_everyone(organization)
    record(action=Action.AUDIT_EXPORTED,
           actor=UserFactory._meta.model.objects.get(email="sam@acme.test"),
           organization=organization)
    security.goto(f"{ws_url}/review/audit/")
    yes = security.get_by_role("radio", name="Yes")
    for n in range(yes.count()):
        yes.nth(n).check()
    security.get_by_role("button", name="Submit for review").click()
    security.screenshot(path=str(shoot.folder / "audit-submitted.png"), full_page=True)

    # A platform reviewer with TOTP approves all four stages in the admin.
    reviewer = browser.new_context().new_page()
    sign_in_to_admin(reviewer, base, "rita@platform.test", PASSWORD, totp_secret=TOTP_SECRET)
    queue = f"{base}/admin/onboarding/reviewstage/?status=submitted"
    for kind in ("consent", "billing", "integration", "audit"):
        reviewer.goto(f"{queue}&kind__exact={kind}")
        reviewer.get_by_role("link", name="Payouts").first.click()
        reviewer.get_by_label("Approve").check()
        reviewer.get_by_role("button", name="Record decision").click()
        expect(reviewer.get_by_text(re.compile("^Approved the"))).to_be_visible()
    reviewer.screenshot(path=str(shoot.folder / "reviewer-approved.png"), full_page=True)

    # A technical lead issues a live key; the key policy asks for an expiry.
    lead = browser.new_context().new_page()
    sign_in_with_totp(lead, base, "tess@acme.test", PASSWORD, totp_secret=TOTP_SECRET)
    lead.goto(f"{ws_url}/")
    expect(lead.get_by_test_id("lane-banner")).to_contain_text("Issue your first live key")
    lead.get_by_test_id("lane-banner").get_by_role("link", name="Issue a live key").click()
    confirm_password_if_asked(lead)
    expect(lead.get_by_text("The key policy requires an expiry at most 90 days ahead.")
           ).to_be_visible()
    lead.get_by_label("Key name").fill("payouts backend")
    lead.get_by_role("button", name="Issue production key").click()
    confirm_password_if_asked(lead)  # a live key asks for the password again
    expect(lead.get_by_text("The key policy requires an expiry").first).to_be_visible()
    lead.screenshot(path=str(shoot.folder / "live-key-needs-expiry.png"), full_page=True)
    lead.get_by_label("Key name").fill("payouts backend")
    lead.get_by_label(re.compile("^Expires")).fill(f"{date.today() + timedelta(days=30)}T00:00")
    lead.get_by_role("button", name="Issue production key").click()
    confirm_password_if_asked(lead)
    expect(lead.get_by_text("This is the only time the secret is shown.")).to_be_visible()
    expect(lead.get_by_text("https://api.acme.test/v1/").first).to_be_visible()
    secret = lead.get_by_label("Secret key").input_value()
    assert secret.startswith("sk_live_")
    lead.screenshot(path=str(shoot.folder / "live-key.png"), full_page=True)

    # The gateway verifies the key and reports a live call; it shows on production usage.
    token = settings.GATEWAY_SERVICE_TOKEN
    verified = gateway(base, "keys/verify", {"key": secret, "environment": "production",
                                             "scope": "accounts:read"}, token)
    assert (verified["valid"], verified["code"], verified["environment"]) == (
        True, "VALID", "production")
    reported = gateway(base, "usage", {"records": [{
        "key_id": verified["key_id"], "endpoint": "/v1/accounts", "method": "GET",
        "status": 200, "latency_ms": 42, "request_id": "req_first_live",
        "occurred_at": timezone.now().isoformat()}]}, token)
    assert reported == {"accepted": 1, "duplicates": 0}
    usage_services.roll_up_usage()  # what the beat runs every few seconds
    lead.goto(f"{ws_url}/usage/production/")
    expect(lead.get_by_role("heading", level=1)).to_have_text("Production usage")
    expect(lead.get_by_test_id("usage-summary")).to_contain_text("1")
    expect(lead.get_by_role("rowheader", name=re.compile(r"^payouts backend"))).to_be_visible()
    expect(lead.get_by_role("rowheader", name="/v1/accounts")).to_be_visible()
    lead.screenshot(path=str(shoot.folder / "first-live-call.png"), full_page=True)

    # Every workspace page says Production.
    for path in ("", "usage/", "history/", "review/", "keys/production/",
                 "webhooks/production/", "requests/production/"):
        lead.goto(f"{ws_url}/{path}")
        expect(lead.get_by_role("note", name="Stage")).to_contain_text("Production")
        expect(lead).to_have_title(re.compile(r" · Production · Developer portal$"))
        name = path.strip("/").replace("/", "-") or "overview"
        lead.screenshot(path=str(shoot.folder / f"production-{name}.png"), full_page=True)
