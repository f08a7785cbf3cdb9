import pytest
from django.urls import reverse

from audit.models import Action, AuditEvent
from webhooks import delivery
from webhooks.models import Attempt, Delivery, Endpoint
from webhooks.outbox import emit
from webhooks.tests.factories import add_endpoint, approve_sandbox, receiver
from workspaces.roles import Role


def url(workspace, name, *args):
    return reverse(name, args=[workspace.organization.slug, workspace.slug, *args])


@pytest.fixture
def sandbox(workspace, settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    return approve_sandbox(workspace)


@pytest.mark.django_db
def test_adding_an_endpoint_and_sending_a_test_event_shows_it_in_the_log(
        client, sandbox, owner, django_capture_on_commit_callbacks):
    client.force_login(owner)
    with receiver() as hook:
        response = client.post(url(sandbox, "webhook_create", "sandbox"),
                               {"url": hook.url, "event_types": ["key.created"]})
        endpoint = Endpoint.objects.get()
        assert response["Location"] == url(sandbox, "webhook_endpoint", "sandbox",
                                           endpoint.public_id)
        with django_capture_on_commit_callbacks(execute=True):
            client.post(url(sandbox, "webhook_test", "sandbox", endpoint.public_id))

    text = client.get(response["Location"]).content.decode()
    assert "webhook.test" in text and "HTTP 200" in text
    assert len(hook.received) == 1
    assert set(AuditEvent.objects.values_list("action", flat=True)) >= {
        Action.WEBHOOK_ENDPOINT_CREATED, Action.WEBHOOK_TEST_SENT}


@pytest.mark.django_db
def test_an_unsafe_url_is_refused_next_to_the_field(client, sandbox, owner, settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = False
    client.force_login(owner)

    response = client.post(url(sandbox, "webhook_create", "sandbox"),
                           {"url": "http://127.0.0.1:9/", "event_types": ["key.created"]})

    assert response.status_code == 400
    assert response.context["form"].errors["url"] == [
        "127.0.0.1 is a loopback address (127.0.0.0/8); webhooks can only be delivered to "
        "addresses on the public internet."]
    assert not Endpoint.objects.exists()


@pytest.mark.django_db
def test_revealing_the_secret_needs_reauthentication_and_is_audited(client, sandbox, owner,
                                                                   password):
    endpoint = add_endpoint(sandbox, owner, "http://127.0.0.1:9/")
    client.force_login(owner)
    page = url(sandbox, "webhook_secret", "sandbox", endpoint.public_id)

    first = client.post(page)
    assert first["Location"].startswith(reverse("account_reauthenticate"))
    assert not AuditEvent.objects.filter(action=Action.WEBHOOK_SECRET_REVEALED).exists()

    client.post(reverse("account_reauthenticate"), {"password": password})
    secret = client.post(page).context["secret"]

    assert secret.startswith("whsec_")
    revealed = AuditEvent.objects.filter(action=Action.WEBHOOK_SECRET_REVEALED, actor=owner)
    assert revealed.count() == 1


@pytest.mark.django_db
def test_a_viewer_sees_endpoints_but_cannot_change_them(client, sandbox, owner, member_client):
    endpoint = add_endpoint(sandbox, owner, "http://127.0.0.1:9/")
    client, _ = member_client(sandbox.organization, Role.VIEWER)

    assert client.get(url(sandbox, "webhook_endpoint", "sandbox", endpoint.public_id)
                      ).status_code == 200
    assert client.post(url(sandbox, "webhook_disable", "sandbox", endpoint.public_id)
                       ).status_code == 403
    assert client.get(url(sandbox, "webhook_list", "production")).status_code == 403
    assert Endpoint.objects.get().enabled


@pytest.mark.django_db
def test_disable_enable_and_retry_now(client, sandbox, owner,
                                      django_capture_on_commit_callbacks):
    endpoint = add_endpoint(sandbox, owner, "http://127.0.0.1:9/")
    event = emit(workspace=sandbox, environment="sandbox", type="key.created", data={})
    (delivery_id,) = delivery.dispatch(event.pk)
    client.force_login(owner)

    client.post(url(sandbox, "webhook_disable", "sandbox", endpoint.public_id),
                {"reason": "maintenance"})
    assert Endpoint.objects.get().disabled_reason == "maintenance"
    client.post(url(sandbox, "webhook_enable", "sandbox", endpoint.public_id))
    with receiver() as hook:
        Endpoint.objects.filter(pk=endpoint.pk).update(url=hook.url)
        with django_capture_on_commit_callbacks(execute=True):
            client.post(url(sandbox, "webhook_delivery_retry", "sandbox", endpoint.public_id,
                            delivery_id))

    assert Attempt.objects.get().status_code == 200
    assert [a for a in AuditEvent.objects.values_list("action", flat=True)
            if a.startswith("webhook.")] == [
        Action.WEBHOOK_DELIVERY_RETRIED, Action.WEBHOOK_ENDPOINT_ENABLED,
        Action.WEBHOOK_ENDPOINT_DISABLED, Action.WEBHOOK_ENDPOINT_CREATED]


@pytest.mark.django_db
@pytest.mark.parametrize("size", [1, 60])
def test_endpoint_and_log_pages_cost_bounded_queries(client, sandbox, owner, size,
                                                    django_assert_max_num_queries):
    endpoint = add_endpoint(sandbox, owner, "http://127.0.0.1:9/")
    for _ in range(min(size, 10) - 1):
        add_endpoint(sandbox, owner, "http://127.0.0.1:9/")
    for _ in range(size):
        event = emit(workspace=sandbox, environment="sandbox", type="key.created", data={})
        delivery.dispatch(event.pk)
    for d in Delivery.objects.filter(endpoint=endpoint)[:30]:
        delivery.attempt(d.pk)
    client.force_login(owner)
    pages = [url(sandbox, "webhook_list", "sandbox"),
             url(sandbox, "webhook_endpoint", "sandbox", endpoint.public_id),
             url(sandbox, "webhook_endpoint", "sandbox", endpoint.public_id) + "?status=pending"]
    for page in pages:
        client.get(page)
        with django_assert_max_num_queries(16):
            assert client.get(page).status_code == 200
