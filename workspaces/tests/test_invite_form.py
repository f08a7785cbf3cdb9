"""The invitation form's workspace rows: one workspace select per row, whatever the
organization's size; the rows limit the invitation or give a role per workspace."""

import re

import pytest
from django.urls import reverse

from workspaces.models import Invitation
from workspaces.roles import Role


@pytest.fixture
def acme(organization_factory, workspace_factory, membership_factory, user_factory):
    owner = user_factory(mfa=True)
    organization = organization_factory(name="Acme", slug="acme", created_by=owner)
    membership_factory(user=owner, organization=organization, roles=[Role.OWNER])
    for name in ("Checkout", "Payouts", "Ledger"):
        workspace_factory(organization=organization, name=name, slug=name.lower(),
                          created_by=owner)
    return organization


@pytest.fixture
def owner_client(client, acme):
    client.force_login(acme.created_by)
    return client


def _url():
    return reverse("invitations", args=["acme"])


def _selects(page: str) -> list[str]:
    return re.findall(r'<select id="(id_[\w-]+)"', page)


@pytest.mark.django_db
def test_the_form_offers_one_workspace_row_however_many_workspaces_there_are(
        owner_client, acme, workspace_factory):
    few = owner_client.get(_url()).content.decode()
    for n in range(30):
        workspace_factory(organization=acme, name=f"App {n:02d}", slug=f"app-{n:02d}")

    many = owner_client.get(_url()).content.decode()

    assert _selects(few) == _selects(many) == ["id_row-0-workspace", "id_row-0-role"]
    assert "<label for=\"id_row-0-workspace\">Workspace in row 1" in many
    assert ">App 29</option>" in many and ">Checkout</option>" in many
    assert 'name="add_workspace_row"' in many


@pytest.mark.django_db
def test_add_a_workspace_without_javascript_keeps_what_was_typed_and_sends_nothing(
        owner_client, acme):
    checkout = acme.workspaces.get(slug="checkout")

    response = owner_client.post(_url(), {
        "email": "cory@contractor.test", "roles": [Role.VIEWER], "scope": "listed",
        "row-0-workspace": checkout.pk, "row-0-role": Role.TECHNICAL_LEAD,
        "add_workspace_row": "1"})

    page = response.content.decode()
    assert response.status_code == 200
    assert not Invitation.objects.exists()
    assert _selects(page) == ["id_row-0-workspace", "id_row-0-role",
                              "id_row-1-workspace", "id_row-1-role"]
    assert 'value="cory@contractor.test"' in page
    assert f'<option value="{checkout.pk}" selected>Checkout</option>' in page
    assert '<option value="technical_lead" selected>Technical lead</option>' in page
    assert "errorlist" not in page


@pytest.mark.django_db
def test_rows_limit_the_invitation_to_their_workspaces_with_a_role_in_one(owner_client, acme):
    checkout, payouts = acme.workspaces.get(slug="checkout"), acme.workspaces.get(slug="payouts")

    owner_client.post(_url(), {
        "email": "cory@contractor.test", "roles": [Role.VIEWER], "scope": "listed",
        "row-0-workspace": checkout.pk, "row-0-role": Role.TECHNICAL_LEAD,
        "row-1-workspace": payouts.pk, "row-1-role": "",
        "row-2-workspace": ""})

    invitation = Invitation.objects.get()
    assert set(invitation.workspaces.all()) == {checkout, payouts}
    assert invitation.workspace_roles == {str(checkout.pk): [Role.TECHNICAL_LEAD]}


@pytest.mark.django_db
def test_every_workspace_with_another_role_in_one(owner_client, acme):
    ledger = acme.workspaces.get(slug="ledger")

    owner_client.post(_url(), {
        "email": "cory@contractor.test", "roles": [Role.DEVELOPER], "scope": "all",
        "row-0-workspace": ledger.pk, "row-0-role": Role.VIEWER})

    invitation = Invitation.objects.get()
    assert list(invitation.workspaces.all()) == []
    assert invitation.workspace_roles == {str(ledger.pk): [Role.VIEWER]}


@pytest.mark.django_db
@pytest.mark.parametrize(("rows", "message"), [
    ({"row-0-workspace": ""}, "Choose at least one workspace, or every workspace."),
    ({"row-0-workspace": "{checkout}", "row-1-workspace": "{checkout}"},
     "Choose each workspace in one row only."),
    ({"row-0-workspace": "{foreign}"}, "Select a valid choice."),
])
def test_rows_that_cannot_be_sent_say_why(owner_client, acme, workspace_factory, rows, message):
    ids = {"checkout": acme.workspaces.get(slug="checkout").pk,
           "foreign": workspace_factory().pk}

    response = owner_client.post(_url(), {
        "email": "cory@contractor.test", "roles": [Role.VIEWER], "scope": "listed",
        **{key: value.format(**ids) for key, value in rows.items()}})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Invitation.objects.exists()
