"""After the last approval every workspace page says Production; environment pages
switch between sandbox and production and the band follows the one shown."""

import pytest
from django.urls import reverse
from django.utils import timezone

PAGES = ["workspace_overview", "workspace_history", "review_overview", "usage"]


@pytest.fixture
def live(workspace):
    workspace.sandbox_approved_at = workspace.production_approved_at = timezone.now()
    workspace.save()
    return workspace


def url(workspace, name, *args):
    return reverse(name, args=[workspace.organization.slug, workspace.slug, *args])


@pytest.mark.django_db
@pytest.mark.parametrize("name", PAGES)
def test_workspace_pages_say_production_after_the_last_approval(client, live, owner, name):
    client.force_login(owner)

    text = client.get(url(live, name)).content.decode()

    assert 'class="stage-band stage-band--production"' in text
    assert "· Production · Developer portal</title>" in text
    assert ('<span class="badge badge--production">Production</span>' in text
            or "<h1>Production usage</h1>" in text)


@pytest.mark.django_db
@pytest.mark.parametrize("name", PAGES)
def test_before_approval_they_say_sandbox(client, workspace, owner, name):
    workspace.sandbox_approved_at = timezone.now()
    workspace.save()
    client.force_login(owner)

    text = client.get(url(workspace, name)).content.decode()

    assert 'class="stage-band stage-band--sandbox"' in text
    assert "badge--production" not in text


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["key_list", "webhook_list", "webhook_events", "request_log",
                                  "usage_environment"])
def test_environment_pages_switch_and_the_band_follows_the_one_shown(client, live, owner,
                                                                     name):
    client.force_login(owner)

    sandbox = client.get(url(live, name, "sandbox")).content.decode()
    production = client.get(url(live, name, "production")).content.decode()

    assert 'stage-band--sandbox' in sandbox and 'stage-band--production' in production
    switch = production.split('<nav class="env-switch" aria-label="Environment">', 1)[1]
    switch = switch.split("</nav>", 1)[0]
    assert f'href="{url(live, name, "sandbox")}">Sandbox</a>' in switch
    assert f'href="{url(live, name, "production")}" aria-current="page">Production</a>' in switch


@pytest.mark.django_db
def test_the_navigation_leads_to_production_after_approval(client, live, owner):
    client.force_login(owner)

    text = client.get(url(live, "workspace_overview")).content.decode()

    assert f'href="{url(live, "key_list", "production")}">API keys' in text
    assert f'href="{url(live, "webhook_list", "production")}">Webhooks' in text
