import re

import pytest
from django.urls import reverse

from audit.models import Action, AuditEvent
from outbox.services import emit
from webhooks import delivery
from webhooks.models import Attempt, Delivery, Endpoint, Event
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
             url(sandbox, "webhook_endpoint", "sandbox", endpoint.public_id) + "?status=pending",
             url(sandbox, "webhook_events", "sandbox"),
             url(sandbox, "webhook_events", "sandbox") + "?status=succeeded&type=key.created"]
    for page in pages:
        client.get(page)
        with django_assert_max_num_queries(16):
            assert client.get(page).status_code == 200


@pytest.mark.django_db
def test_a_sample_event_shows_what_was_sent_and_can_be_sent_again(
        client, sandbox, owner, django_capture_on_commit_callbacks):
    client.force_login(owner)
    with receiver() as hook:
        endpoint = add_endpoint(sandbox, owner, hook.url)
        page = url(sandbox, "webhook_endpoint", "sandbox", endpoint.public_id)
        # given a sample key.created event sent from the endpoint's page
        with django_capture_on_commit_callbacks(execute=True):
            client.post(url(sandbox, "webhook_test", "sandbox", endpoint.public_id),
                        {"event_type": "key.created"})
        sent = Delivery.objects.get()
        # when it is sent again from the log
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(url(sandbox, "webhook_delivery_retry", "sandbox",
                                       endpoint.public_id, sent.pk), follow=True)

    # then the receiver got the catalogue's example twice, marked as a test, same id
    (h1, b1), (h2, b2) = hook.received
    assert b1 == b2 and h1["webhook-id"] == h2["webhook-id"]
    assert b'"type":"key.created"' in b1 and b'"test":true' in b1
    assert b'"key_id":"key_8Tq2mD0vX1"' in b1
    text = response.content.decode()
    assert "Sending now" in text
    # and the log shows the request's headers and body, the signature but never the secret
    text = client.get(page).content.decode()
    assert f"webhook-id: {h1['webhook-id']}" in text
    assert f"webhook-signature: {h1['webhook-signature']}" in text
    assert "&quot;key_id&quot;:&quot;key_8Tq2mD0vX1&quot;" in text
    assert "whsec_" not in text
    assert text.count("Send again") == 2
    assert AuditEvent.objects.filter(action=Action.WEBHOOK_EVENT_RESENT, actor=owner).exists()


@pytest.mark.django_db
def test_a_sample_of_a_type_the_endpoint_does_not_receive_is_refused(client, sandbox, owner):
    endpoint = add_endpoint(sandbox, owner, "http://127.0.0.1:9/", event_types=["key.created"])
    client.force_login(owner)

    response = client.post(url(sandbox, "webhook_test", "sandbox", endpoint.public_id),
                           {"event_type": "key.revoked"}, follow=True)

    # the form refuses the choice and falls back to webhook.test
    assert "A webhook.test example goes to this endpoint only" in response.content.decode()
    assert list(Event.objects.values_list("type", flat=True)) == ["webhook.test"]


@pytest.mark.django_db
def test_test_events_are_limited_per_workspace_with_a_message(client, sandbox, owner,
                                                             settings):
    settings.WEBHOOK_TEST_EVENTS_PER_HOUR = 2
    first = add_endpoint(sandbox, owner, "http://127.0.0.1:9/a")
    second = add_endpoint(sandbox, owner, "http://127.0.0.1:9/b")
    client.force_login(owner)

    for endpoint in (first, second, second):
        response = client.post(url(sandbox, "webhook_test", "sandbox", endpoint.public_id),
                               follow=True)

    text = response.content.decode()
    assert "This workspace may send 2 test events an hour and has sent 2 in the last hour." \
        in text
    assert Event.objects.count() == 2
    assert AuditEvent.objects.filter(action=Action.WEBHOOK_TEST_SENT).count() == 2


@pytest.mark.django_db
def test_replays_are_limited_per_workspace(client, sandbox, owner, settings):
    settings.WEBHOOK_REPLAYS_PER_HOUR = 3
    endpoint = add_endpoint(sandbox, owner, "http://127.0.0.1:9/")
    for _ in range(2):
        emit(workspace=sandbox, environment="sandbox", type="key.created", data={})
    client.force_login(owner)
    replay = url(sandbox, "webhook_replay", "sandbox", endpoint.public_id)

    client.post(replay, {"since": "2000-01-01T00:00"})
    response = client.post(replay, {"since": "2000-01-01T00:00"}, follow=True)

    assert "may send 3 replayed events an hour and has sent 2" in response.content.decode()
    assert Delivery.objects.filter(kind="replay").count() == 2
    assert AuditEvent.objects.filter(action=Action.WEBHOOK_REPLAYED).count() == 1


@pytest.mark.django_db
def test_deleting_an_endpoint_after_confirmation_stops_its_deliveries(client, sandbox, owner):
    endpoint = add_endpoint(sandbox, owner, "http://127.0.0.1:9/gone")
    event = emit(workspace=sandbox, environment="sandbox", type="key.created", data={})
    delivery.dispatch(event.pk)
    client.force_login(owner)
    page = url(sandbox, "webhook_delete", "sandbox", endpoint.public_id)

    confirm = client.get(page).content.decode()
    response = client.post(page, follow=True)

    assert "its delivery log (1 delivery) is deleted with it" in confirm
    assert "Endpoint http://127.0.0.1:9/gone deleted." in response.content.decode()
    assert not Endpoint.objects.exists() and not Delivery.objects.exists()
    assert Event.objects.count() == 1  # the event itself stays in the Events page
    deleted = AuditEvent.objects.get(action=Action.WEBHOOK_ENDPOINT_DELETED)
    assert (deleted.actor, deleted.details["url"]) == (owner, "http://127.0.0.1:9/gone")


@pytest.mark.django_db
def test_the_events_page_lists_each_event_with_its_deliveries_and_filters(client, sandbox,
                                                                          owner):
    endpoint = add_endpoint(sandbox, owner, "http://127.0.0.1:9/", event_types=["key.created"])
    created = emit(workspace=sandbox, environment="sandbox", type="key.created", data={})
    emit(workspace=sandbox, environment="sandbox", type="key.revoked", data={})
    delivery.dispatch(created.pk)
    client.force_login(owner)
    page = url(sandbox, "webhook_events", "sandbox")

    everything = client.get(page).content.decode()
    pending = client.get(page + "?status=pending").content.decode()
    revoked = client.get(page + "?type=key.revoked").content.decode()

    assert "key.created" in everything and "key.revoked" in everything
    assert endpoint.url in everything and "Pending" in everything
    assert created.public_id in pending and "key.revoked</code>" not in pending
    assert "key.created</code>" not in revoked and "Waiting to be sent" in revoked
    assert "kept for 30 days" in everything


@pytest.mark.django_db
def test_the_delivery_log_pages_by_keyset_newest_first_without_repeats(client, sandbox, owner):
    endpoint = add_endpoint(sandbox, owner, "http://127.0.0.1:9/")
    for _ in range(60):
        delivery.dispatch(emit(workspace=sandbox, environment="sandbox", type="key.created",
                               data={}).pk)
    client.force_login(owner)
    first = url(sandbox, "webhook_endpoint", "sandbox", endpoint.public_id)

    seen, pages, next_url = [], 0, first
    while next_url:
        text = client.get(next_url).content.decode()
        seen += re.findall(r"(msg_[0-9a-f]{24})", text)
        pages += 1
        older = re.search(r'href="(\?[^"]+)" rel="next"', text)
        next_url = first + older.group(1).replace("&amp;", "&") if older else ""

    newest_first = list(Delivery.objects.filter(endpoint=endpoint)
                        .order_by("-created_at", "-pk").values_list("event__public_id",
                                                                    flat=True))
    assert pages == 3  # 25, 25, 10
    assert list(dict.fromkeys(seen)) == newest_first
