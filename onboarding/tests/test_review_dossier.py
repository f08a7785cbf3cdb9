import json

import pytest
from django.urls import reverse

from onboarding.review import services
from onboarding.tests.factories import review_team, reviewer, submit_all


def url(workspace, name):
    return reverse(name, args=[workspace.organization.slug, workspace.slug])


@pytest.fixture
def decided(workspace, user_factory):
    """A review with a change request, a resubmission and four approvals."""
    team = review_team(workspace)
    stages = submit_all(workspace, team)
    decider = reviewer(user_factory, full_name="Rita Reviewer", email="rita@platform.test")
    services.decide_review_stage(reviewer=decider, stage_id=stages["billing"].pk, version=1,
                                 approve=False, changes={"plan": "Pick Scale for 2M calls."})
    services.save_stage_answers(actor=team.billing, workspace=workspace, kind="billing",
                                answers={"plan": "scale"})
    services.submit_stage(actor=team.billing, workspace=workspace, kind="billing")
    for kind, version in [("consent", 1), ("billing", 2), ("integration", 1), ("audit", 1)]:
        services.decide_review_stage(reviewer=decider, stage_id=stages[kind].pk,
                                     version=version, approve=True)
    return team


@pytest.mark.django_db
def test_the_json_dossier_holds_every_answer_check_and_decision(
    client, workspace, decided, django_assert_max_num_queries
):
    client.force_login(decided.owner)

    with django_assert_max_num_queries(9):
        response = client.get(url(workspace, "review_dossier_json"))

    assert response["Content-Disposition"].startswith('attachment; filename="production-review')
    data = json.loads(response.content)
    assert data["workspace"]["slug"] == workspace.slug
    assert data["production_approved_at"] is not None
    assert [s["kind"] for s in data["stages"]] == ["consent", "billing", "integration", "audit"]
    billing = data["stages"][1]
    assert (billing["status"], billing["version"], billing["answers"]) == (
        "approved", 2, {"plan": "scale"})
    assert [(d["version"], d["approved"], d["reviewer"]["email"], d["answers"])
            for d in billing["decisions"]] == [
        (1, False, "rita@platform.test", {"plan": "growth"}),
        (2, True, "rita@platform.test", {"plan": "scale"})]
    assert billing["decisions"][0]["requested_changes"] == {"plan": "Pick Scale for 2M calls."}
    assert billing["submitted_by"]["name"] == "Dana Lee"
    consent = data["stages"][0]
    assert consent["screenshot"]["content_type"] == "image/png"
    assert consent["answers"]["terms_url"] == "https://shop.example.com/terms"
    assert {c["key"] for c in data["stages"][2]["evidence"]} >= {"error_rate", "key_age"}


@pytest.mark.django_db
def test_the_printable_dossier_page(client, workspace, decided, django_assert_max_num_queries):
    client.force_login(decided.compliance)  # reads every stage

    with django_assert_max_num_queries(13):
        text = client.get(url(workspace, "review_dossier")).content.decode()

    assert "Production review dossier" in text
    assert "Growth (€490 / month" not in text.split("Billing setup")[1].split("Decisions")[0]
    assert "Scale (€1,900 / month, 5,000,000 calls)" in text
    assert "<strong>changes requested</strong> by Rita Reviewer" in text
    assert "<li>Plan: Pick Scale for 2M calls.</li>" in text
    assert "Do you encrypt data from our API at rest?" in text
    assert "Approved for production" in text


@pytest.mark.django_db
def test_before_the_review_starts_the_dossier_is_empty(client, workspace, owner):
    client.force_login(owner)

    page = client.get(url(workspace, "review_dossier")).content.decode()
    data = json.loads(client.get(url(workspace, "review_dossier_json")).content)

    assert "The production review has not started yet" in page
    assert (data["started_at"], data["stages"]) == (None, [])
