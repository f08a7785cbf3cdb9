"""A review stage that needs a role nobody holds: the Owner invites one, others are told
who can."""

import re

import pytest
from django.urls import reverse

from onboarding.tests.factories import (
    owner_alone_at_billing_setup,
    review_with_consent_submitted,
    turn_on_mfa,
)
from workspaces.roles import Role


@pytest.mark.django_db
def test_an_owner_without_a_billing_contact_invites_one_from_the_banner(
        client, workspace, owner):
    # given an Owner alone whose review reached billing setup
    invite = owner_alone_at_billing_setup(client, workspace, owner)

    # when they open the workspace
    page = client.get(reverse("workspace_overview", args=[
        workspace.organization.slug, workspace.slug])).content.decode()

    # then the banner offers to invite the Billing contact nobody holds
    assert "Billing setup needs a Billing contact; nobody in" in page
    assert f'href="{invite}">Invite a Billing contact</a>' in page
    # and the invitation form it leads to has that role ticked, and only that one
    form = client.get(invite).content.decode()
    ticked = re.findall(r'<input type="checkbox" name="roles" value="(\w+)"[^>]*checked', form)
    assert ticked == ["billing_contact"]


@pytest.mark.django_db
def test_a_member_who_cannot_invite_is_told_which_owner_can(
        client, workspace, owner, member_client):
    review_with_consent_submitted(workspace, owner)
    client, lead = member_client(workspace.organization, Role.TECHNICAL_LEAD)
    turn_on_mfa(lead.user)

    page = client.get(reverse("workspace_overview", args=[
        workspace.organization.slug, workspace.slug])).content.decode()

    assert "Production review in progress" in page
    assert (f"; {owner.display_name} (owner) to invite a Billing contact for billing "
            "setup") in page
    assert (f"Billing setup: Not started · waiting on {owner.display_name} (owner) to invite "
            "a Billing contact") in page
    assert "Invite a Billing contact</a>" not in page


@pytest.mark.django_db
def test_the_invitation_form_ignores_unknown_roles_and_workspaces_in_the_link(
        client, workspace, owner, workspace_factory):
    other = workspace_factory(organization=workspace.organization, slug="payouts")
    client.force_login(owner)
    url = reverse("invitations", args=[workspace.organization.slug])

    form = client.get(url + "?role=superuser&role=developer&workspace=payouts"
                      "&workspace=nope").content.decode()

    assert re.findall(r'name="roles" value="(\w+)"[^>]*checked', form) == ["developer"]
    assert re.findall(r'<option value="(\d+)" selected>', form) == [str(other.pk)]
    assert re.findall(r'name="scope" value="(\w+)"[^>]*checked', form) == ["listed"]
