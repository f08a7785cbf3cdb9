"""Claim, lease and settle with a fake clock; the in-flight cap; the pump."""

from datetime import timedelta

import pytest
from django.utils import timezone

from outbox.services import emit
from webhooks import delivery, pump, retry
from webhooks.client import Outcome
from webhooks.models import Attempt, Delivery, DeliveryStatus
from webhooks.tests.factories import add_endpoint, approve_sandbox, receiver

FAILED = Outcome(500, 12, "", "boom")


@pytest.fixture
def sandbox(workspace, settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    return approve_sandbox(workspace)


def claim_one(now, delivery_id):
    with delivery.engine_transaction():
        claims = delivery.claim(now, limit=10, delivery_ids=[delivery_id])
    return claims[0] if claims else None


def test_the_lease_outlasts_an_attempt_with_room_to_settle(settings):
    settings.WEBHOOK_ATTEMPT_DEADLINE = 40

    assert delivery.lease() >= timedelta(seconds=120)


@pytest.mark.django_db
@pytest.mark.parametrize(("gap", "settles"), [
    # (seconds between claim tries, which tries' claims are settled, and when)
    (1, "never"),          # a worker dies holding every claim; the sweep tries every second
    (59, "never"),         # tries just inside each lease
    (61, "never"),         # tries just after each lease
    (61, "late"),          # each outcome arrives after its lease ran out
    (30, "in time"),       # outcomes arrive while the lease holds
    (3600 * 11, "never"),  # hours apart: past every scheduled wait
    (3600 * 11, "in time"),
])
def test_claims_never_overlap_a_lease_nor_exceed_the_schedule(sandbox, owner, gap, settles):
    endpoint = add_endpoint(sandbox, owner, "http://127.0.0.1:9/hooks")
    event = emit(workspace=sandbox, environment="sandbox", type="key.revoked", data={})
    start = timezone.now()
    (delivery_id,) = delivery.dispatch(event.pk, now=start)
    now, held = start, None

    for _ in range(40):
        now += timedelta(seconds=gap)
        if held and settles == "late" and now > held.claimed_at + delivery.lease():
            with delivery.engine_transaction():
                delivery.settle([(held, FAILED)])
        claimed = claim_one(now, delivery_id)
        row = Delivery.objects.get()
        if claimed:
            # a claim only ever follows a settled attempt or an expired lease
            assert held is None or settles == "in time" or \
                now >= held.claimed_at + delivery.lease()
            held = claimed
            if settles == "in time":
                with delivery.engine_transaction():
                    delivery.settle([(claimed, FAILED)])
                held = None
        assert row.attempt_count <= retry.MAX_ATTEMPTS
        numbers = list(Attempt.objects.values_list("number", flat=True))
        assert numbers == sorted(set(numbers)) and all(n <= retry.MAX_ATTEMPTS for n in numbers)

    row = Delivery.objects.get()
    if (gap >= 61 and settles == "never") or gap >= 3600 * 11:
        # every attempt of the schedule was made, and each left one row
        assert (row.status, row.attempt_count) == (DeliveryStatus.EXHAUSTED, retry.MAX_ATTEMPTS)
        assert list(Attempt.objects.order_by("number").values_list("number", flat=True)) == \
            list(range(1, retry.MAX_ATTEMPTS + 1))
    assert endpoint.deliveries.count() == 1


@pytest.mark.django_db
def test_an_attempt_lost_with_its_worker_is_recorded_when_its_lease_runs_out(sandbox, owner):
    add_endpoint(sandbox, owner, "http://127.0.0.1:9/hooks")
    event = emit(workspace=sandbox, environment="sandbox", type="key.revoked", data={})
    start = timezone.now()
    (delivery_id,) = delivery.dispatch(event.pk, now=start)
    first = claim_one(start, delivery_id)

    second = claim_one(start + delivery.lease() + timedelta(seconds=1), delivery_id)
    with delivery.engine_transaction():
        late = delivery.settle([(first, Outcome(200, 5, "", "ok"))])

    assert (first.number, second.number) == (1, 2)
    lost = Attempt.objects.get(number=1)
    assert (lost.status_code, lost.error, lost.attempted_at) == (None, delivery.LOST, start)
    assert late == []  # the late outcome of attempt 1 changes nothing
    assert Delivery.objects.get().status == DeliveryStatus.PENDING


@pytest.mark.django_db
def test_one_endpoint_holds_at_most_its_in_flight_cap_across_claimers(sandbox, owner,
                                                                       settings):
    settings.WEBHOOK_MAX_IN_FLIGHT_PER_SLOW_ENDPOINT = 3
    slow = add_endpoint(sandbox, owner, "http://127.0.0.1:9/slow", event_types=["key.revoked"])
    other = add_endpoint(sandbox, owner, "http://127.0.0.1:9/other",
                         event_types=["key.created"])
    for _ in range(10):
        emit(workspace=sandbox, environment="sandbox", type="key.revoked", data={})
    emit(workspace=sandbox, environment="sandbox", type="key.created", data={})
    now = timezone.now()
    with delivery.engine_transaction():
        delivery.fan_out(now)

    with delivery.engine_transaction():
        first = delivery.claim(now, limit=100)
    with delivery.engine_transaction():
        second = delivery.claim(now, limit=100)  # another worker, same moment

    assert sorted(c.endpoint_id for c in first) == [slow.pk] * 3 + [other.pk]
    assert second == []
    waiting = Delivery.objects.filter(endpoint=slow, leased_until__isnull=True)
    assert waiting.count() == 7
    # once one attempt settles, exactly one more may start
    with delivery.engine_transaction():
        delivery.settle([(first[0], FAILED)])
        third = delivery.claim(now + timedelta(seconds=1), limit=100)
    assert [c.endpoint_id for c in third] == [slow.pk]


@pytest.mark.django_db
def test_the_pump_fans_out_posts_and_settles_a_batch(sandbox, owner):
    with receiver() as hook:
        add_endpoint(sandbox, owner, hook.url)
        for _ in range(25):
            emit(workspace=sandbox, environment="sandbox", type="key.revoked", data={})

        settled = pump.pump()

    assert settled == 25 and len(hook.received) == 25
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SUCCEEDED}
    assert Attempt.objects.filter(number=1, status_code=200).count() == 25
    attempt = Attempt.objects.first()
    assert attempt.request_headers["webhook-id"].startswith("msg_")
    assert attempt.request_headers["webhook-signature"].startswith("v1,")
