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


@pytest.mark.django_db
def test_the_lanes_go_on_after_approval_to_live(client, live, owner,
                                                django_assert_max_num_queries):
    from keys.tests.factories import issue
    from onboarding.facts import load_facts
    from onboarding.lanes import next_lane
    from usage import services as usage_services
    from webhooks.models import Endpoint
    from webhooks.tests.factories import add_endpoint
    from workspaces.roles import Role

    def lane():
        with django_assert_max_num_queries(3):
            facts = load_facts(live)
        return next_lane(facts, [Role.OWNER]).key

    # given the sandbox path walked: a key, a call, an acknowledged webhook, usage reviewed
    test_key, _ = issue(live, owner)
    usage_services.record_call(api_key=test_key, endpoint="/v1/ping", method="GET",
                               status=200, latency_ms=3, request_id="req_sandbox")
    usage_services.roll_up_usage()
    usage_services.mark_usage_reviewed(workspace=live, user=owner)
    sandbox_hook = add_endpoint(live, owner, "https://hooks.example.com/test")
    Endpoint.objects.filter(pk=sandbox_hook.pk).update(first_acknowledged_at=timezone.now())
    assert lane() == "first_live_key"

    key, _ = issue(live, owner, environment="production")
    assert lane() == "first_live_call"
    usage_services.record_call(api_key=key, endpoint="/v1/ping", method="GET", status=401,
                               latency_ms=3, request_id="req_refused")
    usage_services.roll_up_usage()
    assert load_facts(live).first_live_call_at is None  # a refused call is not a first call
    usage_services.record_call(api_key=key, endpoint="/v1/ping", method="GET", status=200,
                               latency_ms=3, request_id="req_live")
    usage_services.roll_up_usage()
    assert load_facts(live).first_live_call_at is not None
    assert lane() == "production_webhook"
    add_endpoint(live, owner, "https://hooks.example.com/live", environment="production")
    assert lane() == "live"
    facts = load_facts(live)
    assert (facts.live_keys, facts.production_webhook_at is not None) == (1, True)

    client.force_login(owner)
    overview = client.get(url(live, "workspace_overview")).content.decode()
    usage = client.get(url(live, "usage_environment", "production")).content.decode()

    banner = overview.split('data-testid="lane-banner"', 1)[1].split("</section>", 1)[0]
    assert "<h2 class=\"lane-banner__title\" id=\"lane-title\">Live</h2>" in banner
    assert "1 active live key, first live call on" in banner
    assert f'href="{url(live, "usage_environment", "production")}">Open production usage' in banner
    banner = usage.split('data-testid="lane-banner"', 1)[1].split("</section>", 1)[0]
    assert f'href="{url(live, "workspace_overview")}">Open the workspace overview' in banner
