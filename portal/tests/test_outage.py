"""With Redis unreachable, people can still read, sign in and work; mail still goes."""

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse
from kombu.exceptions import OperationalError

from accounts import tasks
from keys.tests.factories import approve_sandbox, issue
from workspaces.roles import Role
from workspaces.services.invitations import invite_member

CLOSED_PORT = "redis://127.0.0.1:1/0"


@pytest.fixture
def redis_down(settings):
    settings.CACHES = {**settings.CACHES,
                       "default": {**settings.CACHES["default"], "LOCATION": CLOSED_PORT}}
    assert cache.get("anything", "fallback") == "fallback"


@pytest.mark.django_db
def test_pages_serve_and_people_sign_in_while_the_cache_is_down(
    client, redis_down, workspace, owner, password
):
    assert client.get(reverse("docs:index")).status_code == 200

    response = client.post(reverse("account_login"), {"login": owner.email,
                                                      "password": password})

    assert response.status_code == 302
    overview = reverse("workspace_overview", args=[workspace.organization.slug, workspace.slug])
    assert client.get(overview).status_code == 200


@pytest.mark.django_db
def test_the_sandbox_api_serves_without_its_rate_limiter(client, redis_down, workspace, owner):
    _, secret = issue(approve_sandbox(workspace), owner)

    response = client.get("/sandbox/v1/ping", HTTP_AUTHORIZATION=f"Bearer {secret}")

    assert response.status_code == 200


@pytest.mark.django_db
def test_mail_is_sent_inline_when_the_broker_cannot_take_it(
    workspace, owner, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.send_email, "delay", broker_down)

    with django_capture_on_commit_callbacks(execute=True):
        invite_member(actor=owner, organization=workspace.organization,
                      email="dana@acme.test", roles=[Role.VIEWER])

    assert [m.to for m in mail.outbox] == [["dana@acme.test"]]


def test_publishing_gives_up_at_once_when_the_broker_refuses(monkeypatch):
    """A request that commits an event or a mail must not wait on a dead broker: kombu's
    default would retry the connection for seconds before the publish even starts."""
    from kombu.utils import functional

    from portal.celery import app

    slept = []
    monkeypatch.setattr(functional, "sleep", slept.append)
    with app.connection_for_write(CLOSED_PORT) as connection, pytest.raises(OperationalError):
        connection.default_channel  # noqa: B018 (connecting is the point)
    assert sum(slept) <= 0.2
