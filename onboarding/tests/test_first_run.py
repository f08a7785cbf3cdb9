"""The first run: from a verified email to a sandbox key in two form submissions."""

import html

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from audit.models import Action, AuditEvent
from keys.models import ApiKey
from onboarding import services
from onboarding.models import SandboxRequest, SandboxStatus
from workspaces.models import Organization, Workspace
from workspaces.roles import Role

FIRST_RUN = {
    "name": "Acme", "workspace_name": "Payouts app", "building": "on",
    "use_case": "A payouts dashboard for small shops; we read transactions daily.",
    "expected_monthly_calls": "20000", "product_areas": ["transactions", "webhooks"],
}
SANDBOX = {"use_case": FIRST_RUN["use_case"], "expected_monthly_calls": 20000,
           "product_areas": ["transactions"]}


def text_of(response) -> str:
    return html.unescape(response.content.decode())


@pytest.mark.django_db
def test_two_submissions_take_a_verified_person_from_no_organization_to_a_sandbox_key(
        signed_in_client, user):
    # Given a verified person attached to nothing, with sandbox access approved by policy
    # When they create the organization, its workspace and the sandbox request in one form
    response = signed_in_client.post(reverse("organization_create"), FIRST_RUN, follow=True)

    # Then they land on the workspace, whose next lane is the first sandbox key
    workspace = Workspace.objects.get()
    assert response.redirect_chain == [
        (reverse("workspace_overview", args=["acme", "payouts-app"]), 302)]
    page = text_of(response)
    assert "Acme is created and you are its Owner." in page
    assert "Issue your first sandbox key" in page
    assert "stage-band--sandbox" in page
    assert user.memberships.get().roles == [Role.OWNER]

    # When they submit the issue form the banner links to
    response = signed_in_client.post(
        reverse("key_issue", args=["acme", "payouts-app", "sandbox"]),
        {"name": "local dev", "scopes": ["accounts:read"]})

    # Then the secret is on the page
    key = ApiKey.objects.get(workspace=workspace)
    page = text_of(response)
    assert "This is the only time the secret is shown." in page
    assert "sk_sandbox_" in page
    assert key.name == "local dev"


@pytest.mark.django_db
def test_each_part_writes_the_audit_events_its_own_service_writes(signed_in_client, user):
    signed_in_client.post(reverse("organization_create"), FIRST_RUN)

    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions == [Action.ORGANIZATION_CREATED, Action.WORKSPACE_CREATED,
                       Action.SANDBOX_REQUESTED, Action.SANDBOX_APPROVED]
    sandbox_request = SandboxRequest.objects.get()
    assert (sandbox_request.requested_by, sandbox_request.product_areas) == (
        user, ["transactions", "webhooks"])


@pytest.mark.django_db
def test_where_sandbox_access_is_reviewed_the_request_shows_as_its_own_lane(
        settings, signed_in_client):
    settings.SANDBOX_AUTO_APPROVE = False

    response = signed_in_client.post(reverse("organization_create"), FIRST_RUN, follow=True)

    page = text_of(response)
    assert SandboxRequest.objects.get().status == SandboxStatus.PENDING
    assert "Sandbox access is being reviewed" in page
    assert "Issue your first sandbox key" not in page.split("lane-banner", 1)[1][:2000]


@pytest.mark.django_db
def test_without_the_box_ticked_no_sandbox_request_is_made_and_its_fields_are_ignored(
        signed_in_client):
    response = signed_in_client.post(reverse("organization_create"), {
        **FIRST_RUN, "building": "", "use_case": "short", "expected_monthly_calls": "-3"},
        follow=True)

    assert Workspace.objects.get().name == "Payouts app"
    assert not SandboxRequest.objects.exists()
    assert "Request sandbox access" in text_of(response)


@pytest.mark.parametrize(("change", "field_message"), [
    ({"use_case": "short"}, "Tell us a little more (at least 20 characters)."),
    ({"product_areas": []}, "Choose at least one product area."),
    ({"expected_monthly_calls": "0"}, "Ensure this value is greater than or equal to 1."),
    ({"workspace_name": "  "}, "Name the workspace the sandbox access is for."),
    ({"name": ""}, "This field is required."),
])
@pytest.mark.django_db
def test_bad_input_anywhere_is_shown_next_to_its_field_and_writes_nothing(
        signed_in_client, change, field_message):
    response = signed_in_client.post(reverse("organization_create"), {**FIRST_RUN, **change})

    assert response.status_code == 400
    assert field_message in text_of(response)
    assert 'value="Payouts app"' in text_of(response) or "workspace_name" in change
    assert not Organization.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_a_refusal_by_the_sandbox_service_rolls_back_the_organization_and_workspace(user):
    # Given input the form would pass but the sandbox service refuses
    with pytest.raises(ValidationError) as refused:
        services.start_organization(actor=user, name="Acme", workspace_name="Payouts",
                                    sandbox={**SANDBOX, "product_areas": []})

    # Then nothing of the first run is written
    assert refused.value.message_dict == {"product_areas": ["Choose at least one product area."]}
    assert not Organization.objects.exists()
    assert not Workspace.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_a_workspace_name_the_service_refuses_lands_on_the_workspace_field(user):
    with pytest.raises(ValidationError) as refused:
        services.start_organization(actor=user, name="Acme", workspace_name="   ",
                                    sandbox=SANDBOX)

    assert list(refused.value.message_dict) == ["workspace_name"]
    assert not Organization.objects.exists()


@pytest.mark.django_db
def test_the_form_offers_the_sandbox_request_to_the_person_shipping_the_integration(
        signed_in_client):
    page = text_of(signed_in_client.get(reverse("organization_create")))

    assert "I'm building the integration: request sandbox access now" in page
    assert "What are you building?" in page
    assert "Expected API calls per month" in page
