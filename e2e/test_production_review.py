import re
import struct
import zlib

import pytest
from playwright.sync_api import Page, expect

from accounts.tests.factories import PASSWORD, UserFactory
from audit.models import Action
from audit.services import record
from e2e.conftest import sign_in_to_admin, sign_in_with_totp
from onboarding.tests.factories import (
    TOTP_SECRET,
    pass_billing,
    pass_integration,
    require_mfa_of_everyone,
    turn_on_mfa,
)
from usage.models import WorkspaceUsage
from workspaces.roles import Role
from workspaces.tests.factories import MembershipFactory, WorkspaceFactory


def consent_screen_png(width: int = 240, height: int = 140) -> bytes:
    """A real PNG: a grey "modal" with a violet "Allow" button."""
    rows = b""
    for y in range(height):
        row = bytearray(b"\x00")
        for x in range(width):
            button = 150 <= x < 220 and 100 <= y < 125
            row += bytes((91, 33, 182) if button else (235, 235, 240))
        rows += bytes(row)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()


def fill_consent_review(page: Page, image, *, purpose: str, terms: str) -> None:
    """Answer every question of the consent review, as its owner would."""
    page.get_by_label("Purpose: Account details").fill(purpose)
    page.get_by_label("Consent duration").select_option(label="One year")
    page.get_by_label("How end users revoke consent").fill("Settings > Connected banks.")
    page.get_by_label("Privacy policy URL").fill("https://acme.example.com/privacy")
    page.get_by_label("Terms URL").fill(terms)
    page.get_by_label("Consent screen description").fill("A modal listing each scope.")
    page.get_by_label("Consent screen screenshot").set_input_files(str(image))


@pytest.mark.django_db(transaction=True)
def test_four_stages_are_filled_in_reviewed_with_one_change_request_and_production_unlocks(
    page: Page, browser, live_server, shoot, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    workspace = WorkspaceFactory(name="Payouts", organization__name="Acme Payments")
    organization = workspace.organization
    owner = organization.created_by
    MembershipFactory(user=owner, organization=organization, roles=[Role.OWNER])
    people = {}
    for role, name, email in [(Role.COMPLIANCE, "Cora Compliance", "cora@acme.test"),
                              (Role.BILLING_CONTACT, "Dana Lee", "dana@acme.test"),
                              (Role.TECHNICAL_LEAD, "Tess Lead", "tess@acme.test"),
                              (Role.SECURITY_OWNER, "Sam Secure", "sam@acme.test")]:
        people[role] = UserFactory(email=email, full_name=name)
        MembershipFactory(user=people[role], organization=organization, roles=[role])
    workspace.sandbox_approved_at = workspace.created_at
    workspace.save(update_fields=["sandbox_approved_at"])
    pass_integration(workspace)  # sandbox calls, a key and an acknowledged webhook
    WorkspaceUsage.objects.create(workspace=workspace, first_call_at=workspace.created_at,
                                  usage_reviewed_at=workspace.created_at)
    pass_billing(workspace)
    UserFactory(email="rita@platform.test", full_name="Rita Reviewer", is_staff=True,
                is_superuser=True)
    turn_on_mfa(UserFactory._meta.model.objects.get(email="rita@platform.test"))
    image = tmp_path / "consent.png"
    image.write_bytes(consent_screen_png())
    base = live_server.url
    ws_url = f"{base}/o/{organization.slug}/w/{workspace.slug}"
    banner = page.get_by_test_id("lane-banner")

    # The compliance contact starts the review and fills in the consent review.
    sign_in(page, base, "cora@acme.test")
    page.goto(f"{ws_url}/review/")
    page.get_by_role("button", name="Start the production review").click()
    expect(page.get_by_role("row", name=re.compile("Billing setup"))).to_contain_text(
        "Waiting on Dana Lee (billing contact)")
    shoot("review-started")
    page.get_by_role("link", name="Open consent review").first.click()
    fill_consent_review(page, image, purpose="Show balances on the dashboard.",
                        terms="https://acme.example.com/terms-old")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_alt_text("Consent screen screenshot")).to_be_visible()
    shoot("consent-saved")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_role("row", name=re.compile("Consent review"))).to_contain_text(
        "Waiting on a platform reviewer")

    # The billing contact picks a plan.
    billing = browser.new_context().new_page()
    sign_in(billing, base, "dana@acme.test")
    billing.goto(f"{ws_url}/review/")
    expect(billing.get_by_test_id("lane-banner")).to_contain_text("Billing setup: yours to do")
    billing.get_by_role("link", name="Open billing setup").first.click()
    billing.get_by_role("radio", name=re.compile("Growth")).check()
    # "Submit for review" saves what is on the page first.
    billing.get_by_role("button", name="Submit for review").click()
    expect(billing.get_by_role("row", name=re.compile("Billing setup"))).to_contain_text(
        "Submitted")
    billing.screenshot(path=str(shoot.folder / "billing-submitted.png"), full_page=True)

    # Nobody submits the integration verification: the portal did, from sandbox activity,
    # when the review started with every check passing.
    lead = browser.new_context().new_page()
    sign_in(lead, base, "tess@acme.test")
    lead.goto(f"{ws_url}/review/integration/")
    expect(lead.get_by_text("Successful call to /v1/ping")).to_be_visible()
    expect(lead.get_by_text(re.compile("Submitted by the portal, from sandbox activity"))
           ).to_be_visible()
    expect(lead.get_by_role("button", name="Submit for review")).to_have_count(0)
    lead.screenshot(path=str(shoot.folder / "integration-checklist.png"), full_page=True)

    # Everyone turns on MFA and an Owner requires it; the log is exported; the security
    # owner answers the questionnaire.
    record(action=Action.AUDIT_EXPORTED, actor=people[Role.SECURITY_OWNER],
           organization=organization)
    security = browser.new_context().new_page()
    sign_in(security, base, "sam@acme.test")
    require_mfa_of_everyone(organization)
    security.goto(f"{ws_url}/review/audit/")
    yes = security.get_by_role("radio", name="Yes")
    for n in range(yes.count()):
        yes.nth(n).check()
    security.get_by_role("radio", name="No", exact=True).nth(3).check()
    security.get_by_role("button", name="Submit for review").click()
    # A "No" needs a few words of explanation; what was typed is still there.
    expect(security.get_by_role("alert")).to_contain_text(
        "Why not: Do you rotate API keys at least every 90 days?: Say in a few words why not")
    expect(security.get_by_role("radio", name="No", exact=True).nth(3)).to_be_checked()
    security.get_by_label("If No, why not? (4)").fill("Yearly, and at once on any leak.")
    security.screenshot(path=str(shoot.folder / "questionnaire-no-explained.png"),
                        full_page=True)
    security.get_by_role("button", name="Submit for review").click()
    expect(security.get_by_role("row", name=re.compile("Audit-ready checks"))).to_contain_text(
        "Submitted")
    security.screenshot(path=str(shoot.folder / "all-submitted.png"), full_page=True)

    # A platform reviewer asks for one change to the consent review.
    reviewer = browser.new_context().new_page()
    sign_in_to_admin(reviewer, base, "rita@platform.test", PASSWORD, totp_secret=TOTP_SECRET)
    queue = f"{base}/admin/onboarding/reviewstage/?status=submitted"
    reviewer.goto(queue)
    expect(reviewer.locator("td.field-kind")).to_have_text(
        ["Integration verification", "Consent review", "Billing setup", "Audit-ready checks"])
    reviewer.screenshot(path=str(shoot.folder / "reviewer-queue.png"), full_page=True)

    def open_stage(kind: str):
        reviewer.goto(f"{queue}&kind__exact={kind}")
        reviewer.get_by_role("link", name="Payouts").first.click()

    open_stage("consent")
    reviewer.get_by_label("Request changes").check()
    reviewer.get_by_label("Terms URL").fill("This page is a 404.")
    reviewer.screenshot(path=str(shoot.folder / "reviewer-requests-changes.png"),
                        full_page=True)
    reviewer.get_by_role("button", name="Record decision").click()
    expect(reviewer.get_by_text("Requested changes to the consent review")).to_be_visible()

    # The compliance contact sees exactly that, fixes it and resubmits.
    page.goto(f"{ws_url}/review/consent/")
    expect(page.get_by_role("alert")).to_contain_text("Terms URL: This page is a 404.")
    expect(page.get_by_label("Privacy policy URL")).to_be_disabled()
    shoot("changes-requested")
    page.get_by_label("Terms URL").fill("https://acme.example.com/terms")
    page.get_by_role("button", name="Submit for review").click()

    # The reviewer sees what changed and approves all four stages.
    open_stage("consent")
    expect(reviewer.locator('tr[data-field="terms_url"]')).to_contain_text("Changed")
    change = reviewer.locator('tr[data-diff="terms_url"]')
    expect(change).to_contain_text("https://acme.example.com/terms-old")
    expect(change).to_contain_text("https://acme.example.com/terms")
    reviewer.screenshot(path=str(shoot.folder / "reviewer-sees-changes.png"), full_page=True)
    for kind in ("consent", "billing", "integration", "audit"):
        open_stage(kind)
        reviewer.get_by_label("Approve").check()
        reviewer.get_by_role("button", name="Record decision").click()
        expect(reviewer.get_by_text(re.compile("^Approved the"))).to_be_visible()

    # Production is unlocked for the customer, and the dossier tells the story.
    page.goto(f"{ws_url}/")
    expect(banner.get_by_role("heading")).to_have_text("Issue your first live key")
    shoot("live-in-production")
    page.goto(f"{ws_url}/review/dossier/")
    expect(page.get_by_text(re.compile("Approved for production"))).to_be_visible()
    expect(page.get_by_text("changes requested", exact=True)).to_be_visible()
    shoot("dossier")

    # The technical lead issues the first production key under the Production band.
    lead = browser.new_context().new_page()
    sign_in_with_totp(lead, base, "tess@acme.test", PASSWORD, totp_secret=TOTP_SECRET)
    lead.goto(f"{ws_url}/keys/production/")
    expect(lead.get_by_label("Stage")).to_contain_text("Production")
    lead.get_by_label("Key name").fill("payouts backend")
    lead.get_by_role("button", name="Issue production key").click()
    # A live key asks for the password again; allauth then resumes the issue.
    lead.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    lead.get_by_role("button", name=re.compile("Confirm|Continue|Reauthenticate")).click()
    expect(lead.get_by_text("This is the only time the secret is shown.")).to_be_visible()
    expect(lead.get_by_label("Secret key")).to_have_value(re.compile(r"^sk_live_"))
    expect(lead.get_by_label("Stage")).to_contain_text("Production")
    lead.screenshot(path=str(shoot.folder / "first-production-key.png"), full_page=True)
