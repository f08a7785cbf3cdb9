import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from onboarding.models import ReviewStage
from onboarding.review import services
from onboarding.tests.factories import PNG, review_team, reviewer, screenshot, submit_all
from workspaces.roles import Role

QUEUE = "admin:onboarding_reviewstage_changelist"


@pytest.fixture
def stages(workspace):
    return submit_all(workspace, review_team(workspace))


@pytest.fixture
def admin_client(client, user_factory):
    client.force_login(reviewer(user_factory, is_superuser=True, email="rev@platform.test"))
    return client


def rows(text: str) -> list[str]:
    return re.findall(r'field-kind">([^<]+)<', text)


def page(stage):
    return reverse("admin:onboarding_reviewstage_change", args=[stage.pk])


@pytest.mark.django_db
def test_the_queue_shows_submitted_stages_oldest_first_with_filters(
    admin_client, stages, django_assert_max_num_queries
):
    ReviewStage.objects.filter(pk=stages["audit"].pk).update(
        submitted_at=timezone.now() - timedelta(days=4))
    queue = reverse(QUEUE)

    ReviewStage.objects.filter(pk=stages["billing"].pk).update(status="approved")

    with django_assert_max_num_queries(12):
        text = admin_client.get(queue).content.decode()

    assert rows(text) == ["Audit-ready checks", "Consent review", "Integration verification"]
    old = admin_client.get(queue + "?age=over3d").content.decode()
    assert rows(old) == ["Audit-ready checks"]
    every = admin_client.get(queue + "?status=all&kind__exact=billing").content.decode()
    assert rows(every) == ["Billing setup"]
    approved = admin_client.get(queue + "?status=approved").content.decode()
    assert rows(approved) == ["Billing setup"]


@pytest.mark.django_db
def test_one_page_shows_answers_evidence_and_screenshot(
    admin_client, stages, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12):
        text = admin_client.get(page(stages["consent"])).content.decode()
    assert "https://shop.example.com/privacy" in text
    assert "accounts:read: Show balances on the dashboard." in text
    assert "Record decision" in text
    image = admin_client.get(reverse("admin:onboarding_reviewstage_screenshot",
                                     args=[stages["consent"].pk]))
    assert b"".join(image.streaming_content) == PNG
    with django_assert_max_num_queries(12):
        text = admin_client.get(page(stages["integration"])).content.decode()
    assert "Successful call to /v1/ping" in text and "Passes" in text


@pytest.mark.django_db
def test_the_screenshot_is_not_served_to_a_customer_through_the_admin(
    client, workspace, stages
):
    client.force_login(workspace.organization.created_by)
    response = client.get(reverse("admin:onboarding_reviewstage_screenshot",
                                  args=[stages["consent"].pk]))
    assert response.status_code == 302  # to the admin login


@pytest.mark.django_db
def test_a_reviewer_requests_changes_and_then_sees_what_changed(
    admin_client, workspace, stages, django_capture_on_commit_callbacks
):
    consent = stages["consent"]
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(page(consent), {
            "decision": "changes", "version": 1, "notes": "Almost.",
            "reason:terms_url": "The terms page is a 404.", "reason:scopes": ""})

    assert response.status_code == 302
    consent.refresh_from_db()
    assert (consent.status, consent.requested_changes, consent.notes) == (
        "changes_requested", {"terms_url": "The terms page is a 404."}, "Almost.")
    assert mail.outbox[-1].subject == f"Consent review for {workspace}: changes requested"
    compliance = consent.review.workspace.organization.memberships.get(
        roles__contains=[Role.COMPLIANCE]).user
    services.save_stage_answers(actor=compliance, workspace=workspace, kind="consent",
                                answers={"terms_url": "https://shop.example.com/legal"})
    services.submit_stage(actor=compliance, workspace=workspace, kind="consent")

    text = admin_client.get(page(consent)).content.decode()

    assert "Changed since the last decision" in text
    row = text[text.index('data-field="terms_url"'):]
    assert "<strong>Changed</strong>" in row[:row.index("</tr>")]
    row = text[text.index('data-field="privacy_policy_url"'):]
    assert "<strong>Changed</strong>" not in row[:row.index("</tr>")]
    # Before → after for every changed field, and only those.
    diff = text[text.index("Changed since the last decision (1)"):]
    assert re.findall(r'data-diff="([^"]+)"', diff) == ["terms_url"]
    assert ('<th scope="row">Terms URL</th>\n          <td>https://shop.example.com/terms</td>'
            '<td>https://shop.example.com/legal</td>') in diff
    # Earlier decisions name fields by their labels, never by their keys.
    earlier = text[text.index("Earlier decisions"):]
    earlier = earlier[:earlier.index("</ul>")]
    assert "(Terms URL: The terms page is a 404.)" in earlier and "terms_url" not in earlier


@pytest.mark.django_db
def test_a_stale_decision_shows_a_conflict(admin_client, stages, user_factory):
    services.decide_review_stage(reviewer=reviewer(user_factory), stage_id=stages["billing"].pk,
                                 version=1, approve=True)

    response = admin_client.post(page(stages["billing"]), {"decision": "approve",
                                                          "version": 1})

    assert response.status_code == 409
    assert "someone else decided it meanwhile" in response.content.decode()


@pytest.mark.django_db
def test_a_reviewer_without_mfa_or_in_the_organization_cannot_decide(
    client, workspace, stages, user_factory, membership_factory
):
    client.force_login(user_factory(is_staff=True, is_superuser=True))
    response = client.post(page(stages["audit"]), {"decision": "approve", "version": 1},
                           follow=True)
    assert "Platform staff need two-factor authentication" in response.content.decode()

    member = reviewer(user_factory, is_superuser=True)
    membership_factory(user=member, organization=workspace.organization, roles=[Role.VIEWER])
    client.force_login(member)
    response = client.post(page(stages["audit"]), {"decision": "approve", "version": 1})
    assert "You belong to this organization" in response.content.decode()
    assert ReviewStage.objects.get(pk=stages["audit"].pk).status == "submitted"


@pytest.mark.django_db
def test_approving_all_four_in_the_admin_unlocks_production(admin_client, workspace, stages):
    for stage in stages.values():
        admin_client.post(page(stage), {"decision": "approve", "version": 1, "notes": "ok"})

    workspace.refresh_from_db()
    assert workspace.production_approved_at is not None
    text = admin_client.get(page(stages["audit"])).content.decode()
    assert "there is nothing to decide" in text


def test_screenshot_fixture_is_a_png():
    assert screenshot().read(8) == PNG[:8]
