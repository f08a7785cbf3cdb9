import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from onboarding.models import ReviewStage
from onboarding.review import services
from onboarding.reviewers import ensure_reviewers_group
from onboarding.tests.factories import (
    CONSENT,
    PNG,
    QUESTIONNAIRE,
    pass_billing,
    pass_integration,
    reviewer,
    screenshot,
    submit_all,
    turn_on_mfa,
)
from usage.models import WorkspaceUsage
from workspaces.roles import Role


def url(workspace, name, *args):
    return reverse(name, args=[workspace.organization.slug, workspace.slug, *args])


CONSENT_FORM = {"action": "save", "purpose_accounts_read": "Show balances.",
                "purpose_transactions_read": "", "consent_duration": "365",
                "revocation": "Settings > Disconnect.",
                "privacy_policy_url": "https://shop.example.com/privacy",
                "terms_url": "https://shop.example.com/terms",
                "consent_screen": "A modal with each scope and Allow / Cancel."}


@pytest.mark.django_db
def test_an_owner_starts_the_review_and_every_stage_shows_its_owner(client, workspace, team):
    client.force_login(team.owner)
    page = client.get(url(workspace, "review_overview")).content.decode()
    assert "Start the production review" in page

    response = client.post(url(workspace, "review_start"))

    assert response.status_code == 302
    page = client.get(url(workspace, "review_overview")).content.decode()
    for title, owner in [("Consent review", "Cora Compliance (compliance / audit)"),
                         ("Billing setup", "Dana Lee (billing contact)"),
                         ("Integration verification", "Tess Lead (technical lead)"),
                         ("Audit-ready checks", "Sam Secure (security owner)")]:
        assert title in page and owner in page
    assert "Waiting on Dana Lee (billing contact)" in page
    overview = client.get(url(workspace, "workspace_overview")).content.decode()
    assert 'aria-label="Production review stages"' in overview


@pytest.mark.django_db
def test_the_banner_tells_each_owner_their_stage_and_others_who_it_waits_on(
    client, workspace, team, membership_factory
):
    services.start_production_review(actor=team.owner, workspace=workspace)
    pass_integration(workspace)  # a sandbox key, calls and an acknowledged webhook
    WorkspaceUsage.objects.update_or_create(workspace=workspace, defaults={
        "first_call_at": workspace.sandbox_approved_at,
        "usage_reviewed_at": workspace.sandbox_approved_at})

    client.force_login(team.billing)
    page = client.get(url(workspace, "usage")).content.decode()
    assert "Billing setup: yours to do" in page
    developer = membership_factory(organization=workspace.organization,
                                   roles=[Role.DEVELOPER]).user
    client.force_login(developer)
    page = client.get(url(workspace, "usage")).content.decode()
    assert "Production review in progress" in page
    assert "Billing setup: Not started · waiting on Dana Lee (billing contact)" in page


@pytest.mark.django_db
def test_the_consent_owner_fills_in_uploads_and_submits(client, workspace, team):
    services.start_production_review(actor=team.owner, workspace=workspace)
    client.force_login(team.compliance)

    # One form, two buttons: "Submit for review" saves what is on the page first.
    page = client.get(url(workspace, "review_stage", "consent")).content.decode()
    assert 'value="save"' in page and 'value="submit"' in page
    assert page.count('<form method="post" enctype="multipart/form-data"') == 1
    submitted = client.post(url(workspace, "review_stage", "consent"),
                            {**CONSENT_FORM, "action": "submit", "screenshot": screenshot()})

    assert submitted.status_code == 302
    stage = ReviewStage.objects.get(kind="consent")
    assert stage.status == "submitted"
    assert stage.answers["scopes"] == {"accounts:read": "Show balances."}
    page = client.get(url(workspace, "review_stage", "consent")).content.decode()
    assert "Submitted answers are locked" in page and 'value="save"' not in page
    locked = client.post(url(workspace, "review_stage", "consent"), CONSENT_FORM)
    assert locked.status_code == 400
    assert "its answers are locked" in locked.content.decode()


@pytest.mark.django_db
def test_bad_answers_are_shown_next_to_their_fields(client, workspace, team):
    services.start_production_review(actor=team.owner, workspace=workspace)
    client.force_login(team.technical_lead)

    response = client.post(url(workspace, "review_stage", "consent"), {
        **CONSENT_FORM, "terms_url": "http://shop.example.com/terms",
        "screenshot": screenshot(b"<svg></svg>", "x.png")})

    assert response.status_code == 400
    text = response.content.decode()
    assert "Enter a public https:// URL." in text
    assert ReviewStage.objects.get(kind="consent").answers == {}


@pytest.mark.django_db
def test_submitting_an_incomplete_stage_keeps_what_was_typed(client, workspace, team):
    services.start_production_review(actor=team.owner, workspace=workspace)
    client.force_login(team.technical_lead)

    response = client.post(url(workspace, "review_stage", "consent"), {
        **CONSENT_FORM, "action": "submit", "revocation": "", "consent_screen": ""})

    assert response.status_code == 400
    text = response.content.decode()
    assert "Saved, but not ready to submit" in text
    assert ("<strong>Consent screen description:</strong> Describe the consent screen or "
            "upload a screenshot of it; one of the two is required.") in text
    assert "How end users revoke consent:</strong> This answer is required." in text
    assert 'value="https://shop.example.com/terms"' in text and "Show balances." in text
    stage = ReviewStage.objects.get(kind="consent")
    assert (stage.status, stage.answers["terms_url"]) == ("in_progress",
                                                          "https://shop.example.com/terms")


@pytest.mark.django_db
def test_the_integration_stage_says_the_portal_submits_it_and_where_to_fix_each_check(
    client, workspace, team
):
    services.start_production_review(actor=team.owner, workspace=workspace)
    client.force_login(team.technical_lead)

    text = client.get(url(workspace, "review_stage", "integration")).content.decode()

    assert "Nobody fills in this stage: the portal submits it" in text
    assert 'value="submit"' not in text
    assert ('<a href="/docs/sandbox-api/">Call /v1/ping as the Sandbox API reference '
            'shows</a>') in text
    assert (f'<a href="{url(workspace, "webhook_list", "sandbox")}">Send a test event from '
            'Webhooks</a>') in text
    assert client.post(url(workspace, "review_stage", "integration"),
                       {"action": "submit"}).status_code == 400
    assert ReviewStage.objects.get(kind="integration").status == "not_started"


@pytest.mark.django_db
def test_someone_else_sees_the_stage_read_only_and_cannot_change_it(client, workspace, team):
    services.start_production_review(actor=team.owner, workspace=workspace)
    services.save_stage_answers(actor=team.billing, workspace=workspace, kind="billing",
                                answers={"plan": "growth"})
    client.force_login(team.compliance)  # reads billing, does not fill it in

    page = client.get(url(workspace, "review_stage", "billing")).content.decode()
    response = client.post(url(workspace, "review_stage", "billing"),
                           {"action": "save", "plan": "scale"})

    assert "Only a Billing contact or Owner can fill in" in page
    assert 'value="save"' not in page and "disabled" in page
    assert response.status_code == 403
    assert ReviewStage.objects.get(kind="billing").answers == {"plan": "growth"}


@pytest.mark.django_db
def test_a_member_who_may_not_read_a_stage_can_neither_see_nor_change_it(
    client, workspace, team
):
    services.start_production_review(actor=team.owner, workspace=workspace)
    client.force_login(team.billing)  # no consent review role

    page = client.get(url(workspace, "review_stage", "consent")).content.decode()
    response = client.post(url(workspace, "review_stage", "consent"), CONSENT_FORM)

    assert "Filled in by: Compliance / audit, Technical lead or Owner." in page
    assert 'name="action"' not in page and 'name="terms_url"' not in page
    assert response.status_code == 403
    assert ReviewStage.objects.get(kind="consent").answers == {}


@pytest.mark.django_db
def test_after_a_change_request_only_the_named_fields_are_editable(
    client, workspace, team, user_factory
):
    stages = submit_all(workspace, team)
    services.decide_review_stage(reviewer=reviewer(user_factory), stage_id=stages["consent"].pk,
                                 version=1, approve=False,
                                 changes={"terms_url": "This page is a 404."})
    client.force_login(team.compliance)

    page = client.get(url(workspace, "review_stage", "consent")).content.decode()

    assert "<strong>Terms URL:</strong> This page is a 404." in page
    assert 'name="terms_url"' in page
    assert ('<input type="url" name="privacy_policy_url" value="https://shop.example.com/'
            'privacy" disabled id="id_privacy_policy_url">') in page
    assert '<input type="url" name="terms_url" value="https://shop.example.com/terms" ' \
           'id="id_terms_url">' in page
    assert client.post(url(workspace, "review_stage", "consent"), {
        **CONSENT_FORM, "action": "submit", "terms_url": "https://shop.example.com/legal",
        "privacy_policy_url": "https://evil.example.com/"}).status_code == 302
    stage = ReviewStage.objects.get(kind="consent")
    assert (stage.status, stage.answers["terms_url"], stage.answers["privacy_policy_url"]) == (
        "submitted", "https://shop.example.com/legal", CONSENT["privacy_policy_url"])


@pytest.mark.django_db
def test_the_screenshot_is_served_only_through_the_view(client, workspace, team,
                                                        member_client):
    services.start_production_review(actor=team.owner, workspace=workspace)
    lead, _ = member_client(workspace.organization, Role.TECHNICAL_LEAD)
    assert lead.get(url(workspace, "review_screenshot")).status_code == 404
    services.save_stage_answers(actor=team.compliance, workspace=workspace, kind="consent",
                                answers={}, screenshot=screenshot())

    response = lead.get(url(workspace, "review_screenshot"))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"


@pytest.mark.django_db
def test_review_pages_cost_a_bounded_number_of_queries(
    client, workspace, team, user_factory, django_assert_max_num_queries
):
    submit_all(workspace, team)
    client.force_login(team.compliance)
    bounds = {url(workspace, "review_overview"): 9, url(workspace, "workspace_overview"): 8,
              # + the stage's earlier decisions, which also give the diff's "before"
              url(workspace, "review_stage", "consent"): 10,
              # +1: the members' guardian grants on the workspace (roles held there)
              url(workspace, "review_stage", "billing"): 13,
              # +1: the key policy's maximum key age per environment
              url(workspace, "review_stage", "integration"): 15,
              url(workspace, "review_stage", "audit"): 13,
              url(workspace, "review_screenshot"): 5}

    for page, bound in bounds.items():
        with django_assert_max_num_queries(bound):
            assert client.get(page).status_code == 200


# --- Who fills in what; where to go --------------------------------------------------------

@pytest.mark.django_db
def test_an_owner_fills_in_billing_while_its_named_owner_stays_first_on_the_banner(
    client, workspace, team
):
    services.start_production_review(actor=team.owner, workspace=workspace)
    pass_billing(workspace)
    client.force_login(team.owner)

    page = client.get(url(workspace, "review_stage", "billing")).content.decode()
    assert "Filled in by: Billing contact or Owner (you)." in page
    overview = client.get(url(workspace, "review_overview")).content.decode()
    row = overview[overview.index('data-stage="billing"'):]
    assert "Waiting on Dana Lee (billing contact)" in row[:row.index("</tr>")]
    response = client.post(url(workspace, "review_stage", "billing"),
                           {"action": "submit", "plan": "growth"})

    assert response.status_code == 302
    stage = ReviewStage.objects.get(kind="billing")
    assert (stage.status, stage.submitted_by, stage.answers) == ("submitted", team.owner,
                                                                 {"plan": "growth"})


@pytest.mark.django_db
def test_the_review_is_in_the_workspace_navigation_from_the_start(client, workspace, team):
    client.force_login(team.billing)
    nav = r'<a href="{}"{}>Production review\s*<span class="badge badge--muted" ' \
          r'data-testid="review-status">{}</span>'

    usage = client.get(url(workspace, "usage")).content.decode()
    assert re.search(nav.format(url(workspace, "review_overview"), "", "Not started"), usage)
    services.start_production_review(actor=team.owner, workspace=workspace)
    stage = client.get(url(workspace, "review_stage", "billing")).content.decode()
    assert re.search(nav.format(url(workspace, "review_overview"), ' aria-current="page"',
                                "0 of 4 approved"), stage)


@pytest.mark.django_db
def test_after_the_review_starts_the_checklist_shows_its_progress(client, workspace, team):
    WorkspaceUsage.objects.update_or_create(workspace=workspace, defaults={
        "first_call_at": workspace.sandbox_approved_at,
        "usage_reviewed_at": workspace.sandbox_approved_at})
    client.force_login(team.owner)
    assert "Start the production review" in client.get(
        url(workspace, "workspace_overview")).content.decode()

    services.start_production_review(actor=team.owner, workspace=workspace)
    text = client.get(url(workspace, "workspace_overview")).content.decode()

    assert "Start the production review" not in text
    assert '<span data-testid="review-progress">· 0 of 4 approved</span>' in text


@pytest.mark.django_db
def test_mfa_not_on_links_to_the_two_factor_page_and_tells_the_person(client, workspace, team):
    pass_integration(workspace)
    WorkspaceUsage.objects.update_or_create(workspace=workspace, defaults={
        "first_call_at": workspace.sandbox_approved_at,
        "usage_reviewed_at": workspace.sandbox_approved_at})
    services.start_production_review(actor=team.owner, workspace=workspace)
    client.force_login(team.security)
    page = client.get(url(workspace, "review_stage", "audit")).content.decode()
    assert "Not yet on for: " in page and "Tess Lead" in page
    assert ('<a href="/accounts/2fa/">Each of them turns on two-factor authentication on '
            'their Two-factor authentication page</a>') in page

    client.force_login(team.technical_lead)
    banner = client.get(url(workspace, "usage")).content.decode()

    assert "The audit-ready checks wait on your two-factor authentication" in banner
    assert 'href="/accounts/2fa/">Turn on two-factor authentication</a>' in banner
    turn_on_mfa(team.technical_lead)
    assert "wait on your two-factor" not in client.get(url(workspace, "usage")).content.decode()


# --- What changed ----------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_no_needs_a_reason_and_the_resubmission_shows_before_and_after(
    client, workspace, team, user_factory
):
    stages = submit_all(workspace, team)
    services.decide_review_stage(reviewer=reviewer(user_factory), stage_id=stages["audit"].pk,
                                 version=1, approve=False,
                                 changes={"q04": "Do you really rotate every 90 days?",
                                          "attachment": "Attach your rotation policy."})
    client.force_login(team.security)
    form = {**QUESTIONNAIRE, "q04": "no", "action": "submit"}

    refused = client.post(url(workspace, "review_stage", "audit"), form)
    assert refused.status_code == 400
    assert "Say in a few words why not (under 500 characters)." in refused.content.decode()
    assert 'value="no" id="id_q04_1" checked' in refused.content.decode()
    submitted = client.post(url(workspace, "review_stage", "audit"), {
        **form, "q04_why": "Yearly, with an alert on leaks.",
        "attachment": SimpleUploadedFile("policy.pdf", b"%PDF-1.7\n...", "application/pdf")})
    assert submitted.status_code == 302

    text = client.get(url(workspace, "review_stage", "audit")).content.decode()
    diff = text[text.index("Changed since the last decision"):]
    assert re.findall(r'data-field="([^"]+)"', diff) == ["q04", "attachment"]
    assert ("<td>Yes</td>\n                <td>No: Yearly, with an alert on leaks.</td>"
            in diff)
    earlier = text[text.index("Earlier decisions"):]
    assert ("<strong>Do you rotate API keys at least every 90 days?</strong>: Do you really "
            "rotate every 90 days?") in earlier
    assert "q04" not in earlier
    assert ">policy.pdf</a>" in text
    evidence = client.get(url(workspace, "review_attachment"))
    assert b"".join(evidence.streaming_content) == b"%PDF-1.7\n..."
    assert (evidence["Content-Type"], evidence["Content-Disposition"],
            evidence["Cache-Control"]) == ("application/pdf", "attachment", "private, no-store")


@pytest.mark.django_db
def test_the_billing_profile_is_locked_while_reviewed_and_a_later_change_is_reviewed(
    client, workspace, team, user_factory, django_capture_on_commit_callbacks
):
    stages = submit_all(workspace, team)
    client.force_login(team.billing)
    profile = {"legal_name": "Shop GmbH", "address_line1": "Hauptstr. 1", "city": "Berlin",
               "postal_code": "10115", "country": "DE", "tax_id": "DE123456789",
               "billing_email": "billing@shop.example.com"}

    locked = client.post(reverse("billing", args=[workspace.organization.slug]),
                         {**profile, "legal_name": "Shop AG"})

    assert locked.status_code == 400
    assert (f"The billing setup of {workspace.name} is waiting for a platform reviewer"
            in locked.content.decode())
    decider = reviewer(user_factory)
    for kind in ("consent", "billing", "integration", "audit"):
        services.decide_review_stage(reviewer=decider, stage_id=stages[kind].pk, version=1,
                                     approve=True)
    mail.outbox.clear()
    ensure_reviewers_group().user_set.add(decider)
    with django_capture_on_commit_callbacks(execute=True):
        changed = client.post(reverse("billing", args=[workspace.organization.slug]),
                              {**profile, "legal_name": "Shop AG"})

    assert changed.status_code == 302
    billing = ReviewStage.objects.get(kind="billing")
    workspace.refresh_from_db()
    assert (billing.status, billing.version) == ("submitted", 2)
    assert workspace.production_approved_at is not None  # production stays on
    assert [m.to for m in mail.outbox] == [[decider.email]]
    page = client.get(url(workspace, "review_stage", "billing")).content.decode()
    row = page[page.index('data-field="billing_profile"'):]
    row = row[:row.index("</tr>")]
    assert "Passes: Shop GmbH, Hauptstr. 1" in row and "Passes: Shop AG, Hauptstr. 1" in row
