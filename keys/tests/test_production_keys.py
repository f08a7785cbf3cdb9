import pytest
from django.urls import reverse
from django.utils import timezone


@pytest.fixture
def live(workspace):
    workspace.sandbox_approved_at = workspace.production_approved_at = timezone.now()
    workspace.save()
    return workspace


@pytest.mark.django_db
def test_a_new_live_key_is_shown_with_the_production_api_address_and_curl(
        client, live, owner, password, settings):
    settings.PRODUCTION_API_URL = "https://api.acme.test/v1/"
    client.force_login(owner)
    client.post(reverse("account_reauthenticate"), {"password": password})
    args = [live.organization.slug, live.slug, "production"]

    listing = client.get(reverse("key_list", args=args)).content.decode()
    response = client.post(reverse("key_issue", args=args),
                           {"name": "web app", "scopes": ["accounts:read"]})

    assert "call the production API at <code>https://api.acme.test/v1/</code>" in listing
    page = response.content.decode()
    secret = page.split('id="new-secret" type="text" readonly value="', 1)[1].split('"', 1)[0]
    assert secret.startswith("sk_live_")
    assert "The production API is at <code>https://api.acme.test/v1/</code>" in page
    assert (f'curl -s https://api.acme.test/v1/ping \\\n  -H "Authorization: Bearer {secret}"'
            in page)
