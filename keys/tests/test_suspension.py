"""Platform staff suspend an organization and revoke keys from the admin."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from keys import cache as key_cache
from keys import suspension
from keys.selectors import verify
from keys.tests.factories import approve_sandbox, issue

TOKEN = "dev-gateway-token"
ORGS = "admin:workspaces_organization_changelist"
KEYS = "admin:keys_apikey_changelist"


@pytest.fixture
def staff(user_factory):
    return user_factory(is_staff=True, is_superuser=True, email="ops@platform.test", mfa=True)


@pytest.fixture
def admin_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def sandbox(workspace):
    return approve_sandbox(workspace)


def gateway(client, secret) -> dict:
    return client.post(reverse("gateway_verify"), {"key": secret},
                       content_type="application/json",
                       HTTP_AUTHORIZATION=f"Bearer {TOKEN}").json()


def act(client, changelist, action, pk, reason=None):
    data = {"action": action, "_selected_action": [pk]}
    if reason is not None:
        data |= {"apply": "1", "reason": reason}
    return client.post(reverse(changelist), data, follow=True).content.decode()


@pytest.mark.django_db
def test_a_suspension_needs_a_reason_refuses_the_keys_and_lifting_it_lets_them_verify(
    admin_client, sandbox, owner, client
):
    organization = sandbox.organization
    _, secret = issue(sandbox, owner)

    asked = act(admin_client, ORGS, "suspend", organization.pk)
    assert "Suspend these organizations" in asked and "Suspend with this reason" in asked
    blank = act(admin_client, ORGS, "suspend", organization.pk, reason="  ")
    assert "This field is required." in blank
    assert gateway(client, secret)["code"] == "VALID"

    done = act(admin_client, ORGS, "suspend", organization.pk, reason="Leaked keys in a repo")
    assert "Suspended organizations: 1." in done
    answer = gateway(client, secret)
    assert (answer["valid"], answer["code"]) == (False, "SUSPENDED")
    assert "suspended" in answer["message"]
    sandbox_call = client.get("/sandbox/v1/ping", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert (sandbox_call.status_code, sandbox_call.json()["code"]) == (401, "SUSPENDED")
    event = AuditEvent.objects.get(action="organization.suspended")
    assert (event.actor.email, event.organization, event.details["reason"]) == (
        "ops@platform.test", organization, "Leaked keys in a repo")

    # A key issued during the suspension is suspended too; nothing was deleted.
    _, new_secret = issue(sandbox, owner, name="during")
    assert gateway(client, new_secret)["code"] == "SUSPENDED"

    lifted = act(admin_client, ORGS, "lift_suspension", organization.pk, reason="Rotated")
    assert "Lifted the suspension of organizations: 1." in lifted
    assert gateway(client, secret)["code"] == "VALID"
    assert gateway(client, new_secret)["code"] == "VALID"
    lift = AuditEvent.objects.get(action="organization.unsuspended")
    assert (lift.actor.email, lift.details["reason"]) == ("ops@platform.test", "Rotated")


@pytest.mark.django_db
def test_members_see_the_suspension_on_their_pages(client, sandbox, owner, staff):
    page = reverse("key_list", args=[sandbox.organization.slug, sandbox.slug, "sandbox"])
    client.force_login(owner)
    assert "is suspended by the platform" not in client.get(page).content.decode()

    suspension.suspend_organization(actor=staff, organization_id=sandbox.organization_id,
                                    reason="Incident 42")

    text = client.get(page).content.decode()
    assert f"{sandbox.organization.name} is suspended by the platform" in text
    assert "refused with SUSPENDED" in text


@pytest.mark.django_db
def test_staff_revoke_a_key_from_the_admin_with_a_reason(admin_client, sandbox, owner,
                                                         client):
    key, secret = issue(sandbox, owner)

    asked = act(admin_client, KEYS, "revoke", key.pk)
    assert "Revoke these API keys" in asked
    done = act(admin_client, KEYS, "revoke", key.pk, reason="Found in a public gist")

    assert "Revoked keys: 1." in done
    assert gateway(client, secret)["code"] == "REVOKED"
    event = AuditEvent.objects.get(action="key.revoked")
    assert (event.actor.email, event.details["reason"], event.workspace) == (
        "ops@platform.test", "Found in a public gist", sandbox)
    again = act(admin_client, KEYS, "revoke", key.pk, reason="twice")
    assert "That key is already revoked." in again


@pytest.mark.django_db
def test_a_customer_cannot_suspend_through_the_admin(client, sandbox, owner):
    client.force_login(owner)
    act(client, ORGS, "suspend", sandbox.organization_id, reason="mine")
    sandbox.organization.refresh_from_db()
    assert sandbox.organization.suspended_at is None
    assert not AuditEvent.objects.filter(action="organization.suspended").exists()


@pytest.mark.django_db(transaction=True)
def test_a_suspension_reaches_a_key_this_process_has_cached(settings, workspace, owner,
                                                            user_factory,
                                                            django_assert_num_queries):
    settings.KEY_CACHE = True
    key_cache.reset()
    try:
        assert key_cache.current().wait_until_listening()
        _, secret = issue(approve_sandbox(workspace), owner)
        assert verify(secret).code == "VALID"
        with django_assert_num_queries(0):  # answered from the cache
            assert verify(secret).code == "VALID"
        staff = user_factory(is_staff=True, email="ops@platform.test", mfa=True)
        suspension.suspend_organization(actor=staff, reason="Incident",
                                        organization_id=workspace.organization_id)
        assert verify(secret).code == "SUSPENDED"
        suspension.lift_suspension(actor=staff, reason="Over",
                                   organization_id=workspace.organization_id)
        assert verify(secret).code == "VALID"
    finally:
        key_cache.reset()
