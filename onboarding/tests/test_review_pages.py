import pytest
from django.urls import reverse

from onboarding.models import ReviewStage
from onboarding.review import services
from onboarding.tests.factories import (
    CONSENT,
    PNG,
    pass_integration,
    reviewer,
    screenshot,
    submit_all,
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

    saved = client.post(url(workspace, "review_stage", "consent"),
                        {**CONSENT_FORM, "screenshot": screenshot()})
    submitted = client.post(url(workspace, "review_stage", "consent"), {"action": "submit"})

    assert (saved.status_code, submitted.status_code) == (302, 302)
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
def test_submitting_an_incomplete_stage_lists_what_is_missing(client, workspace, team):
    services.start_production_review(actor=team.owner, workspace=workspace)
    client.force_login(team.technical_lead)

    response = client.post(url(workspace, "review_stage", "integration"), {"action": "submit"})

    assert response.status_code == 400
    text = response.content.decode()
    assert "Not ready to submit" in text
    assert "Successful call to /v1/ping:" in text
    assert ReviewStage.objects.get(kind="integration").status == "not_started"


@pytest.mark.django_db
def test_someone_else_sees_the_stage_read_only_and_cannot_change_it(client, workspace, team):
    services.start_production_review(actor=team.owner, workspace=workspace)
    client.force_login(team.billing)

    page = client.get(url(workspace, "review_stage", "consent")).content.decode()
    response = client.post(url(workspace, "review_stage", "consent"), CONSENT_FORM)

    assert "Only a Compliance / audit, Technical lead can fill in" in page
    assert 'value="save"' not in page and "disabled" in page
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
    client.post(url(workspace, "review_stage", "consent"), {
        **CONSENT_FORM, "terms_url": "https://shop.example.com/legal",
        "privacy_policy_url": "https://evil.example.com/"})
    assert client.post(url(workspace, "review_stage", "consent"),
                       {"action": "submit"}).status_code == 302
    stage = ReviewStage.objects.get(kind="consent")
    assert (stage.status, stage.answers["terms_url"], stage.answers["privacy_policy_url"]) == (
        "submitted", "https://shop.example.com/legal", CONSENT["privacy_policy_url"])


@pytest.mark.django_db
def test_the_screenshot_is_served_only_through_the_view(client, workspace, team,
                                                        member_client):
    services.start_production_review(actor=team.owner, workspace=workspace)
    viewer, _ = member_client(workspace.organization, Role.VIEWER)
    assert viewer.get(url(workspace, "review_screenshot")).status_code == 404
    services.save_stage_answers(actor=team.compliance, workspace=workspace, kind="consent",
                                answers={}, screenshot=screenshot())

    response = viewer.get(url(workspace, "review_screenshot"))

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
              url(workspace, "review_stage", "consent"): 9,
              url(workspace, "review_stage", "billing"): 11,
              # +1: the key policy's maximum key age per environment
              url(workspace, "review_stage", "integration"): 14,
              url(workspace, "review_stage", "audit"): 11,
              url(workspace, "review_screenshot"): 5}

    for page, bound in bounds.items():
        with django_assert_max_num_queries(bound):
            assert client.get(page).status_code == 200
