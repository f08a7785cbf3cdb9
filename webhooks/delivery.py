"""The delivery engine's database steps: fan-out, claiming attempts, settling outcomes.

Attempts are claimed in batches in one short transaction that leases them
(`leased_until`, with `next_attempt_at` pushed past the lease), so a duplicated task
finds nothing due; the POSTs run outside any transaction (webhooks/pump.py); their
outcomes are written in one short transaction per batch. Each step is safe to run twice.

These transactions commit with `synchronous_commit` off: a database crash may forget
the last few milliseconds of claims and outcomes, which only means a delivery is sent
again, as at-least-once delivery allows; the outbox rows themselves are committed by
the caller's own, durable transaction.
"""

import json
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from prometheus_client import Counter

from webhooks import notices, retry, signing
from webhooks.client import USER_AGENT, Outcome, deadline_seconds, post
from webhooks.models import Attempt, Delivery, DeliveryStatus, Endpoint, Event

SWEEP_BATCH = 500
LOST = "No outcome: the worker stopped during this attempt."

ATTEMPTS = Counter("portal_webhook_attempts", "Webhook delivery attempts by outcome.",
                   ["outcome"])


def body_of(event: Event) -> bytes:
    """The exact bytes signed and sent, the same on every attempt."""
    return json.dumps({"type": event.type,
                       "timestamp": event.created_at.isoformat().replace("+00:00", "Z"),
                       "data": event.data}, separators=(",", ":")).encode()


def live_secrets(endpoint: Endpoint, now: datetime) -> list[str]:
    """The current secret, and the previous one during its rotation overlap."""
    keys = settings.WEBHOOK_SECRET_KEYS
    secrets = [signing.decrypt_secret(endpoint.secret_encrypted, keys)]
    if endpoint.previous_secret_encrypted and endpoint.previous_secret_expires_at and \
            endpoint.previous_secret_expires_at > now:
        secrets.append(signing.decrypt_secret(endpoint.previous_secret_encrypted, keys))
    return secrets


def lease() -> timedelta:
    """How long a claimed attempt is held: far longer than its deadline plus settling,
    so an attempt still running never sees its delivery claimed again."""
    return timedelta(seconds=max(60.0, 4 * deadline_seconds()))


@contextmanager
def engine_transaction():
    """One short transaction of the engine (see the module docstring on durability)."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield


# --- Fan-out ---------------------------------------------------------------------

def fan_out(now: datetime, *, event_ids: Iterable[int] | None = None,
            limit: int = SWEEP_BATCH) -> int:
    """Create one original delivery per subscribed enabled endpoint (none twice) for up
    to `limit` undispatched events (those of `event_ids` only, if given); returns how
    many events were fanned out. Runs in the caller's transaction."""
    events = Event.objects.undispatched()
    if event_ids is not None:
        events = events.filter(pk__in=list(event_ids))
    events = list(events.select_for_update(skip_locked=True)
                  .order_by("created_at", "pk")[:limit])
    if not events:
        return 0
    scopes = {(e.workspace_id, e.environment) for e in events}
    endpoints: dict[tuple[int, str], list[Endpoint]] = {scope: [] for scope in scopes}
    for endpoint in (Endpoint.objects.enabled()
                     .filter(workspace_id__in={w for w, _ in scopes})
                     .only("pk", "workspace_id", "environment", "event_types")):
        endpoints.get((endpoint.workspace_id, endpoint.environment), []).append(endpoint)
    deliveries = []
    for event in events:
        for endpoint in endpoints[(event.workspace_id, event.environment)]:
            wanted = (endpoint.pk == event.endpoint_id if event.endpoint_id
                      else event.type in endpoint.event_types)
            if wanted:
                deliveries.append(Delivery(event=event, endpoint=endpoint, next_attempt_at=now))
    Delivery.objects.bulk_create(deliveries, ignore_conflicts=True)
    Event.objects.filter(pk__in=[e.pk for e in events]).update(dispatched_at=now)
    return len(events)


def dispatch(event_id: int, *, now: datetime | None = None) -> list[int]:
    """Fan one event out and return the ids of its deliveries still waiting for a first
    attempt."""
    now = now or timezone.now()
    with engine_transaction():
        fan_out(now, event_ids=[event_id])
        return list(Delivery.objects.filter(event_id=event_id, status=DeliveryStatus.PENDING,
                                            attempt_count=0).values_list("pk", flat=True))


def sweep(*, now: datetime | None = None) -> tuple[list[int], list[int]]:
    """(due delivery ids, undispatched event ids), oldest first, at most a batch each."""
    now = now or timezone.now()
    due = list(Delivery.objects.due(now).order_by("next_attempt_at")
               .values_list("pk", flat=True)[:SWEEP_BATCH])
    undispatched = list(Event.objects.undispatched().order_by("created_at")
                        .values_list("pk", flat=True)[:SWEEP_BATCH])
    return due, undispatched


# --- Claim -----------------------------------------------------------------------

@dataclass(frozen=True)
class Claim:
    delivery_id: int
    endpoint_id: int
    number: int
    claimed_at: datetime
    url: str
    headers: dict[str, str]
    body: bytes


def max_in_flight() -> int:
    """How many attempts one endpoint may have in flight, across all workers."""
    return int(settings.WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT)


def claim(now: datetime, *, limit: int, delivery_ids: Iterable[int] | None = None
          ) -> list[Claim]:
    """Lease the next attempt of up to `limit` due deliveries (of `delivery_ids` only, if
    given), oldest first, never more per endpoint than its in-flight cap allows and
    never beyond the retry schedule. Runs in the caller's transaction."""
    due = Delivery.objects.due(now)
    if delivery_ids is not None:
        due = due.filter(pk__in=list(delivery_ids))
    candidates = list(due.order_by("next_attempt_at", "pk")
                      .values_list("pk", "endpoint_id")[:limit * 4])
    if not candidates or limit <= 0:
        return []
    # Locked in id order, before any delivery, as every writer of endpoints does: the cap
    # is counted by one claimer at a time per endpoint.
    endpoints = {e.pk: e for e in Endpoint.objects.select_for_update().enabled()
                 .filter(pk__in={ep for _, ep in candidates}).order_by("pk")}
    busy = dict(Delivery.objects.filter(endpoint_id__in=endpoints, status=DeliveryStatus.PENDING,
                                        leased_until__gt=now)
                .values("endpoint_id").annotate(n=Count("pk")).values_list("endpoint_id", "n"))
    room = {pk: max_in_flight() - busy.get(pk, 0) for pk in endpoints}
    chosen = []
    for pk, endpoint_id in candidates:
        if room.get(endpoint_id, 0) > 0 and len(chosen) < limit:
            chosen.append(pk)
            room[endpoint_id] -= 1
    deliveries = list(Delivery.objects.select_for_update(skip_locked=True, of=("self",))
                      .select_related("event")
                      .filter(pk__in=chosen, status=DeliveryStatus.PENDING,
                              next_attempt_at__lte=now).order_by("pk"))
    lost, claims, secrets = [], [], {}
    for delivery in deliveries:
        if delivery.leased_until is not None:
            # The lease ran out: the worker holding it stopped before settling.
            lost.append(Attempt(delivery=delivery, number=delivery.attempt_count,
                                attempted_at=delivery.leased_until - lease(), error=LOST))
        if delivery.attempt_count >= retry.MAX_ATTEMPTS:
            delivery.status, delivery.next_attempt_at = DeliveryStatus.EXHAUSTED, None
            delivery.leased_until = None
            continue
        delivery.attempt_count += 1
        delivery.leased_until = delivery.next_attempt_at = now + lease()
        endpoint = endpoints[delivery.endpoint_id]
        if endpoint.pk not in secrets:
            secrets[endpoint.pk] = live_secrets(endpoint, now)
        event = delivery.event
        body = body_of(event)
        headers = signing.headers(secrets[endpoint.pk], event.public_id,
                                  int(now.timestamp()), body)
        claims.append(Claim(delivery.pk, endpoint.pk, delivery.attempt_count, now,
                            endpoint.url, {**headers, "user-agent": USER_AGENT}, body))
    Attempt.objects.bulk_create(lost, ignore_conflicts=True)
    Delivery.objects.bulk_update(deliveries, ["status", "attempt_count", "next_attempt_at",
                                              "leased_until"])
    return claims


# --- Settle ----------------------------------------------------------------------

def _next_attempt(number: int, outcome: Outcome, now: datetime) -> datetime | None:
    delay = retry.next_delay(number)
    if delay is None:
        return None
    if outcome.status_code in (429, 503):
        # The receiver asked for a pause: wait for whichever is longer.
        delay = max(delay, retry.retry_after(outcome.retry_after, now) or timedelta(0))
    return now + delay


def settle(results: list[tuple[Claim, Outcome]]) -> list[Attempt]:
    """Write each attempt (once per number) and schedule what comes next; returns the
    attempts written. Runs in the caller's transaction.

    This is the one place every attempt's outcome passes through: attempts are
    counted here, by outcome, for /metrics."""
    if not results:
        return []
    endpoints = {e.pk: e for e in Endpoint.objects.select_for_update(of=("self",))
                 .select_related("workspace__organization")
                 .filter(pk__in={c.endpoint_id for c, _ in results}).order_by("pk")}
    deliveries = {d.pk: d for d in Delivery.objects.select_for_update()
                  .filter(pk__in={c.delivery_id for c, _ in results}).order_by("pk")}
    written = set(Attempt.objects.filter(delivery_id__in=deliveries)
                  .values_list("delivery_id", "number"))
    attempts, changed, touched = [], {}, set()
    for claimed, outcome in sorted(results, key=lambda r: r[0].claimed_at):
        delivery = deliveries.get(claimed.delivery_id)
        if delivery is None or (claimed.delivery_id, claimed.number) in written:
            continue  # deleted meanwhile, or a duplicate of this very attempt wrote it
        written.add((claimed.delivery_id, claimed.number))
        ATTEMPTS.labels("succeeded" if outcome.succeeded else
                        "no_response" if outcome.status_code is None else "failed").inc()
        now = claimed.claimed_at
        attempts.append(Attempt(
            delivery=delivery, number=claimed.number, attempted_at=now,
            status_code=outcome.status_code, latency_ms=outcome.latency_ms,
            error=outcome.error[:500], response_excerpt=outcome.excerpt,
            request_headers=dict(claimed.headers)))
        if delivery.attempt_count != claimed.number or delivery.status != DeliveryStatus.PENDING:
            continue  # a later claim owns the schedule now
        endpoint = endpoints[delivery.endpoint_id]
        delivery.last_attempt_at, delivery.leased_until = now, None
        if outcome.succeeded:
            delivery.status, delivery.next_attempt_at = DeliveryStatus.SUCCEEDED, None
            notices.after_success(endpoint, now)
        else:
            notices.after_failure(endpoint, outcome, now)
            delivery.next_attempt_at = _next_attempt(claimed.number, outcome, now)
            if outcome.status_code == 410:
                delivery.status, delivery.next_attempt_at = DeliveryStatus.STOPPED, None
            elif delivery.next_attempt_at is None:
                delivery.status = DeliveryStatus.EXHAUSTED
        changed[delivery.pk] = delivery
        touched.add(endpoint.pk)
    Attempt.objects.bulk_create(attempts)
    Delivery.objects.bulk_update(list(changed.values()), ["status", "next_attempt_at",
                                                          "last_attempt_at", "leased_until"])
    Endpoint.objects.bulk_update([endpoints[pk] for pk in sorted(touched)],
                                 ["enabled", "disabled_at", "disabled_reason", "failing_since",
                                  "disable_warned_at", "first_acknowledged_at"])
    return attempts


def attempt(delivery_id: int, *, now: datetime | None = None) -> Attempt | None:
    """Make the next attempt of one delivery if it is due: claim, POST, settle."""
    now = now or timezone.now()
    with engine_transaction():
        claimed = claim(now, limit=1, delivery_ids=[delivery_id])
    if not claimed:
        return None
    outcome = post(claimed[0].url, claimed[0].headers, claimed[0].body)
    with engine_transaction():
        written = settle([(claimed[0], outcome)])
    return written[0] if written else None
