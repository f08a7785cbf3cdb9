"""Sensitive actions ask for the password again (within 5 minutes) first."""

import pytest
from django.urls import reverse
from django.utils import timezone

from keys.models import ApiKey
from webhooks.models import Endpoint
from webhooks.tests.factories import add_endpoint, approve_sandbox
from workspaces.models import DomainClaim, Membership
from workspaces.roles import Role

REAUTH = reverse("account_reauthenticate")


def _asks_for_password(response) -> bool:
    return response.status_code == 302 and response.url.startswith(REAUTH)


def _reauthenticate(client, password, asked):
    """Confirm the password on the page asked for; allauth then resumes the suspended
    request (its path travels as `next`)."""
    return client.post(asked.url, {"password": password}, follow=True)


@pytest.fixture
def live(workspace):
    approve_sandbox(workspace)
    workspace.production_approved_at = timezone.now()
    workspace.save()
    return workspace


def _ws_url(workspace, name, *args):
    return reverse(name, args=[workspace.organization.slug, workspace.slug, *args])


@pytest.mark.django_db
def test_issuing_a_production_key_asks_for_the_password_first(client, live, owner, password):
    client.force_login(owner)
    form = {"name": "live app", "scopes": ["accounts:read"]}

    response = client.post(_ws_url(live, "key_issue", "production"), form)

    assert _asks_for_password(response)
    assert not ApiKey.objects.exists()
    resumed = _reauthenticate(client, password, response)
    assert ApiKey.objects.get().name == "live app"
    assert "sk_live_" in resumed.content.decode()


@pytest.mark.django_db
def test_issuing_a_sandbox_key_does_not(client, live, owner):
    client.force_login(owner)

    client.post(_ws_url(live, "key_issue", "sandbox"),
                {"name": "test app", "scopes": ["accounts:read"]})

    assert ApiKey.objects.get().name == "test app"


@pytest.mark.django_db
def test_changing_a_production_webhook_url_asks_for_the_password_first(
        client, live, owner, password, settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    endpoint = add_endpoint(live, owner, "https://127.0.0.1:9/a", environment="production")
    client.force_login(owner)
    page = _ws_url(live, "webhook_edit", "production", endpoint.public_id)

    response = client.post(page, {"url": "https://127.0.0.1:9/b", "description": "",
                                  "event_types": ["key.created"]})

    assert _asks_for_password(response)
    assert Endpoint.objects.get().url == "https://127.0.0.1:9/a"
    assert client.get(page).status_code == 200  # reading the form needs no password


@pytest.mark.django_db
def test_granting_the_owner_role_asks_for_the_password_first(
        client, workspace, owner, password, membership_factory):
    member = membership_factory(organization=workspace.organization, roles=[Role.DEVELOPER])
    client.force_login(owner)
    page = reverse("member_detail", args=[workspace.organization.slug, member.pk])

    response = client.post(page, {"action": "roles", "roles-roles": [Role.OWNER]})

    assert _asks_for_password(response)
    assert Membership.objects.get(pk=member.pk).roles == [Role.DEVELOPER]
    _reauthenticate(client, password, response)
    assert Membership.objects.get(pk=member.pk).roles == [Role.OWNER]


@pytest.mark.django_db
def test_other_role_changes_do_not(client, workspace, owner, membership_factory):
    member = membership_factory(organization=workspace.organization, roles=[Role.DEVELOPER])
    client.force_login(owner)

    client.post(reverse("member_detail", args=[workspace.organization.slug, member.pk]),
                {"action": "roles", "roles-roles": [Role.VIEWER]})

    assert Membership.objects.get(pk=member.pk).roles == [Role.VIEWER]


@pytest.mark.django_db
def test_claiming_a_domain_asks_for_the_password_first(client, workspace, owner, password):
    client.force_login(owner)
    page = reverse("domains", args=[workspace.organization.slug])

    response = client.post(page, {"domain": "acme.test"})

    assert _asks_for_password(response)
    assert not DomainClaim.objects.exists()
    _reauthenticate(client, password, response)
    assert DomainClaim.objects.get().domain == "acme.test"
