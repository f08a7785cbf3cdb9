import time
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone
from standardwebhooks import Webhook

from audit.models import Action, AuditEvent
from keys.tests.factories import issue
from outbox.services import emit
from webhooks import delivery, payloads, services, tasks
from webhooks.client import Outcome, post
from webhooks.models import Attempt, Delivery, DeliveryStatus, Endpoint, Event
from webhooks.tests.factories import add_endpoint, approve_sandbox, receiver


@pytest.fixture
def sandbox(workspace, settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    return approve_sandbox(workspace)


@pytest.fixture
def hook(sandbox):
    with receiver() as state:
        yield state


def only_delivery() -> Delivery:
    return Delivery.objects.select_related("endpoint").get()


def secret_of(endpoint, owner) -> str:
    return services.reveal_secret(actor=owner, workspace=endpoint.workspace,
                                  environment=endpoint.environment, public_id=endpoint.public_id)


@pytest.mark.django_db
def test_a_rolled_back_transaction_sends_nothing(sandbox, owner, hook,
                                                  django_capture_on_commit_callbacks):
    add_endpoint(sandbox, owner, hook.url)

    with (django_capture_on_commit_callbacks(execute=True) as callbacks,
          pytest.raises(RuntimeError), transaction.atomic()):
        issue(sandbox, owner)
        raise RuntimeError("the change fails")

    assert callbacks == []
    assert not Event.objects.exists() and not Delivery.objects.exists()
    assert hook.received == []


@pytest.mark.django_db
def test_a_committed_key_event_is_delivered_signed_for_standardwebhooks(
        sandbox, owner, hook, django_capture_on_commit_callbacks):
    endpoint = add_endpoint(sandbox, owner, hook.url)

    with django_capture_on_commit_callbacks(execute=True):
        key, _ = issue(sandbox, owner)

    (headers, body), = hook.received
    event = Webhook(secret_of(endpoint, owner)).verify(body, headers)
    assert event["type"] == "key.created"
    assert event["data"]["key_id"] == key.public_id
    assert headers["webhook-id"] == Event.objects.get().public_id
    attempt = Attempt.objects.get()
    assert (attempt.number, attempt.status_code, attempt.response_excerpt) == (1, 200, "ok")
    assert only_delivery().status == DeliveryStatus.SUCCEEDED
    assert Endpoint.objects.get().first_acknowledged_at == attempt.attempted_at


@pytest.mark.django_db
def test_dispatching_twice_creates_no_second_delivery(sandbox, owner, hook):
    add_endpoint(sandbox, owner, hook.url)
    event = emit(workspace=sandbox, environment="sandbox", type="key.revoked", data={})

    first = delivery.dispatch(event.pk)
    second = delivery.dispatch(event.pk)

    assert first == second and len(first) == 1
    assert Delivery.objects.count() == 1


@pytest.mark.django_db
def test_retries_follow_the_schedule_and_end_exhausted(sandbox, owner, hook):
    add_endpoint(sandbox, owner, hook.url)
    hook.replies = [(500, {}, "boom")] * 8
    event = emit(workspace=sandbox, environment="sandbox", type="key.revoked", data={})
    now = timezone.now()
    (delivery_id,) = delivery.dispatch(event.pk, now=now)
    waits = []

    for _ in range(8):
        d = Delivery.objects.get()
        assert delivery.attempt(delivery_id, now=d.next_attempt_at - timedelta(seconds=1)) is None
        now = d.next_attempt_at
        delivery.attempt(delivery_id, now=now)
        d.refresh_from_db()
        waits.append(d.next_attempt_at - now if d.next_attempt_at else None)

    schedule = [timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30),
                timedelta(hours=2), timedelta(hours=5), timedelta(hours=10), timedelta(hours=10)]
    assert waits[-1] is None
    for wait, planned in zip(waits, schedule, strict=False):
        assert planned * 0.9 <= wait <= planned * 1.1  # the schedule with its 10% jitter
    assert Delivery.objects.get().status == DeliveryStatus.EXHAUSTED
    assert list(Attempt.objects.values_list("number", "status_code")) == [
        (n, 500) for n in range(1, 9)]
    assert len({headers["webhook-id"] for headers, _ in hook.received}) == 1


@pytest.mark.django_db
def test_receiver_down_then_up_deliveries_resume(sandbox, owner):
    with receiver() as hook:
        port = hook.port
        add_endpoint(sandbox, owner, hook.url)
    event = emit(workspace=sandbox, environment="sandbox", type="key.revoked", data={})
    now = timezone.now()
    (delivery_id,) = delivery.dispatch(event.pk, now=now)

    delivery.attempt(delivery_id, now=now)
    failed = Attempt.objects.get()
    assert failed.status_code is None and failed.error.startswith("Connection failed")

    with receiver(port) as hook:
        later = now + timedelta(seconds=6)
        assert delivery.sweep(now=later)[0] == [delivery_id]
        delivery.attempt(delivery_id, now=later)
    assert len(hook.received) == 1
    assert Delivery.objects.get().status == DeliveryStatus.SUCCEEDED


@pytest.mark.django_db
def test_410_disables_the_endpoint_and_tells_its_owners(sandbox, owner, hook,
                                                         django_capture_on_commit_callbacks):
    endpoint = add_endpoint(sandbox, owner, hook.url)
    hook.replies = [(410, {}, "gone")]
    event = emit(workspace=sandbox, environment="sandbox", type="key.revoked", data={})

    with django_capture_on_commit_callbacks(execute=True):
        delivery.attempt(delivery.dispatch(event.pk)[0])

    endpoint.refresh_from_db()
    assert (endpoint.enabled, endpoint.disabled_reason) == (False,
                                                            "The endpoint answered 410 Gone.")
    assert only_delivery().status == DeliveryStatus.STOPPED
    assert AuditEvent.objects.filter(action=Action.WEBHOOK_ENDPOINT_DISABLED,
                                     actor=None).exists()
    assert [m.to for m in mail.outbox] == [[owner.email]]


@pytest.mark.django_db
def test_429_waits_for_retry_after_when_longer_than_the_schedule(sandbox, owner, hook):
    add_endpoint(sandbox, owner, hook.url)
    hook.replies = [(429, {"Retry-After": "120"}, "slow down"), (503, {"Retry-After": "1"}, "")]
    event = emit(workspace=sandbox, environment="sandbox", type="key.revoked", data={})
    now = timezone.now()
    (delivery_id,) = delivery.dispatch(event.pk, now=now)

    delivery.attempt(delivery_id, now=now)
    assert Delivery.objects.get().next_attempt_at == now + timedelta(seconds=120)

    later = now + timedelta(seconds=120)
    delivery.attempt(delivery_id, now=later)
    wait = Delivery.objects.get().next_attempt_at - later
    assert timedelta(minutes=4.5) <= wait <= timedelta(minutes=5.5)  # the schedule wins


@pytest.mark.django_db
def test_a_duplicated_deliver_task_writes_one_attempt(sandbox, owner, hook):
    add_endpoint(sandbox, owner, hook.url)
    event = emit(workspace=sandbox, environment="sandbox", type="key.revoked", data={})
    (delivery_id,) = delivery.dispatch(event.pk)

    tasks.deliver(delivery_id)
    tasks.deliver(delivery_id)

    assert Attempt.objects.count() == 1 and len(hook.received) == 1


@pytest.mark.django_db
def test_the_same_claim_settled_twice_writes_one_attempt(sandbox, owner, hook):
    add_endpoint(sandbox, owner, hook.url)
    event = emit(workspace=sandbox, environment="sandbox", type="key.revoked", data={})
    (delivery_id,) = delivery.dispatch(event.pk)
    now = timezone.now()
    (claimed,) = delivery.claim(now, limit=10, delivery_ids=[delivery_id])
    outcome = Outcome(200, 3, "", "ok")

    assert len(delivery.settle([(claimed, outcome)])) == 1
    assert delivery.settle([(claimed, outcome)]) == []
    assert Attempt.objects.count() == 1


@pytest.mark.django_db
def test_the_sweep_finds_events_whose_dispatch_never_ran(sandbox, owner, hook):
    add_endpoint(sandbox, owner, hook.url)
    # The broker was down at commit: the on_commit callbacks are never run here.
    with transaction.atomic():
        issue(sandbox, owner)
    event = Event.objects.get()
    assert event.dispatched_at is None
    assert delivery.sweep()[1] == [event.pk]

    tasks.sweep()  # eager: dispatches and delivers

    assert len(hook.received) == 1
    assert only_delivery().status == DeliveryStatus.SUCCEEDED


@pytest.mark.django_db
def test_a_name_resolving_to_loopback_is_refused_at_connect_time(sandbox, owner, hook,
                                                                  settings, monkeypatch):
    add_endpoint(sandbox, owner, f"http://hooks.example.com:{hook.port}/")
    settings.WEBHOOKS_ALLOW_LOOPBACK = False
    monkeypatch.setattr("webhooks.client.socket.getaddrinfo",
                        lambda *a, **k: [(2, 1, 6, "", ("127.0.0.1", hook.port))])
    event = emit(workspace=sandbox, environment="sandbox", type="key.revoked", data={})

    delivery.attempt(delivery.dispatch(event.pk)[0])

    attempt = Attempt.objects.get()
    assert attempt.status_code is None
    assert attempt.error.startswith("Refused: hooks.example.com (127.0.0.1) is a loopback")
    assert hook.received == []


@pytest.mark.django_db
def test_redirects_are_not_followed(sandbox, owner, hook):
    add_endpoint(sandbox, owner, hook.url)
    hook.replies = [(302, {"Location": "http://169.254.169.254/"}, "")]
    event = emit(workspace=sandbox, environment="sandbox", type="key.revoked", data={})

    delivery.attempt(delivery.dispatch(event.pk)[0])

    assert Attempt.objects.get().status_code == 302
    assert only_delivery().status == DeliveryStatus.PENDING
    assert len(hook.received) == 1


@pytest.mark.django_db
def test_after_rotation_both_secrets_sign_for_a_day(sandbox, owner, hook):
    endpoint = add_endpoint(sandbox, owner, hook.url)
    old = secret_of(endpoint, owner)
    services.rotate_secret(actor=owner, workspace=sandbox, environment="sandbox",
                           public_id=endpoint.public_id)
    new = secret_of(endpoint, owner)
    event = emit(workspace=sandbox, environment="sandbox", type="key.revoked", data={})
    (delivery_id,) = delivery.dispatch(event.pk)

    delivery.attempt(delivery_id)

    (headers, body), = hook.received
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert Webhook(old).verify(body, headers) == Webhook(new).verify(body, headers)
    endpoint.refresh_from_db()
    assert payloads.live_secrets(endpoint, timezone.now() + timedelta(hours=25)) == [new]


@pytest.mark.django_db
def test_signing_secrets_are_encrypted_at_rest(sandbox, owner, hook):
    endpoint = add_endpoint(sandbox, owner, hook.url)

    secret = secret_of(endpoint, owner)

    assert secret.startswith("whsec_")
    row = str(list(Endpoint.objects.values()))
    assert secret not in row and "whsec_" not in row
    assert secret not in str(list(AuditEvent.objects.values()))


@pytest.mark.django_db
def test_failing_for_four_days_warns_and_five_days_disables(sandbox, owner, hook,
                                                            django_capture_on_commit_callbacks):
    endpoint = add_endpoint(sandbox, owner, hook.url)
    hook.replies = [(500, {}, "")] * 3
    start = timezone.now()

    with django_capture_on_commit_callbacks(execute=True):
        for offset in (timedelta(0), timedelta(days=4, hours=1), timedelta(days=5, hours=1)):
            event = emit(workspace=sandbox, environment="sandbox", type="key.revoked", data={})
            (delivery_id,) = delivery.dispatch(event.pk, now=start + offset)
            delivery.attempt(delivery_id, now=start + offset)
            if offset == timedelta(days=4, hours=1):
                endpoint.refresh_from_db()
                assert endpoint.enabled and endpoint.disable_warned_at == start + offset

    endpoint.refresh_from_db()
    assert not endpoint.enabled and endpoint.disabled_reason.startswith("Every delivery failed")
    assert [m.subject for m in mail.outbox] == [
        f"A webhook endpoint of {sandbox} will be disabled",
        f"A webhook endpoint of {sandbox} was disabled"]


@pytest.mark.django_db
def test_replay_sends_every_subscribed_event_since_a_time_again(sandbox, owner, hook):
    endpoint = add_endpoint(sandbox, owner, hook.url)
    for _ in range(3):
        delivery.attempt(delivery.dispatch(emit(workspace=sandbox, environment="sandbox",
                                                type="key.revoked", data={}).pk)[0])
    since = timezone.now() - timedelta(minutes=1)

    count = services.replay_since(actor=owner, workspace=sandbox, environment="sandbox",
                                  public_id=endpoint.public_id, since=since)
    for d in Delivery.objects.filter(kind="replay"):
        delivery.attempt(d.pk)

    assert count == 3
    ids = [headers["webhook-id"] for headers, _ in hook.received]
    assert len(ids) == 6 and sorted(ids[:3]) == sorted(ids[3:])


@pytest.mark.django_db
def test_production_endpoints_need_https_and_production_approval(sandbox, owner):
    with pytest.raises(Exception, match="production review"):
        add_endpoint(sandbox, owner, "https://hooks.example.com/", environment="production")
    sandbox.production_approved_at = timezone.now()
    sandbox.save()

    with pytest.raises(Exception) as refused:
        add_endpoint(sandbox, owner, "http://hooks.example.com/", environment="production")

    assert refused.value.message_dict == {"url": ["Webhook URLs must use https://."]}


def test_delivery_latency_is_measured(settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    with receiver() as hook:
        started = time.monotonic()
        outcome = post(hook.url, {"content-type": "application/json"}, b"{}")
    assert outcome.status_code == 200
    assert 0 <= outcome.latency_ms <= (time.monotonic() - started) * 1000 + 1
