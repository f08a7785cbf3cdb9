"""Production webhooks: a Developer's is a read-only list (DESIGN §3), no delivery logs."""

import pytest
from django.urls import reverse
from django.utils import timezone

from webhooks.tests.factories import add_endpoint, approve_sandbox
from workspaces.roles import Role

URL = "https://live-hooks.example.com/receive"


@pytest.fixture
def live(workspace, owner):
    approve_sandbox(workspace)
    workspace.production_approved_at = timezone.now()
    workspace.save(update_fields=["production_approved_at"])
    endpoint = add_endpoint(workspace, owner, URL, environment="production")
    return workspace, endpoint


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "listed", "detail"), [
    (Role.OWNER, True, True), (Role.TECHNICAL_LEAD, True, True),
    (Role.SECURITY_OWNER, True, True), (Role.DEVELOPER, True, False),
    (Role.VIEWER, False, False), (Role.BILLING_CONTACT, False, False),
])
def test_production_endpoint_details_only_for_roles_that_read_more_than_the_list(
    live, member_client, role, listed, detail
):
    workspace, endpoint = live
    client, _ = member_client(workspace.organization, role)
    args = [workspace.organization.slug, workspace.slug, "production"]

    listing = client.get(reverse("webhook_list", args=args))
    page = client.get(reverse("webhook_endpoint", args=[*args, endpoint.public_id]))
    events = client.get(reverse("webhook_events", args=args))

    assert (URL in listing.content.decode()) is listed
    link = reverse("webhook_endpoint", args=[*args, endpoint.public_id])
    assert (f'href="{link}"' in listing.content.decode()) is detail
    assert page.status_code == (200 if detail else 403)
    assert events.status_code == (200 if detail else 403)
    assert (URL in page.content.decode()) is detail
