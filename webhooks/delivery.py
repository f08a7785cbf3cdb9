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
import logging
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from prometheus_client import Counter

from webhooks import notices, retry, signing
from webhooks.client import USER_AGENT, Outcome, deadline_seconds, post
from webhooks.models import Attempt, Delivery, DeliveryStatus, Endpoint, Event

SWEEP_BATCH = 500
log = logging.getLogger(__name__)
LOST = "No outcome: the worker stopped during this attempt."

ATTEMPTS = Counter("portal_webhook_attempts", "Webhook delivery attempts by outcome.",
                   ["outcome"])


def body_of(event: Event) -> bytes:
    """The exact bytes signed and sent, the same on every attempt."""
    message = {"type": event.type,
               "timestamp": event.created_at.isoformat().replace("+00:00", "Z"),
               "data": event.data}
    if event.endpoint_id:
        message["test"] = True  # sent from the endpoint's page, not caused by a change
    return json.dumps(message, separators=(",", ":")).encode()


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
    leased_until: datetime
    url: str
    headers: dict[str, str]
    body: bytes


def max_in_flight(endpoint: Endpoint) -> int:
    """How many attempts an endpoint may have in flight, across all workers: a few while
    it is new, slow or failing; more once its latest attempt succeeded quickly."""
    if endpoint.answers_quickly:
        return int(settings.WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT)
    return int(settings.WEBHOOK_MAX_IN_FLIGHT_PER_SLOW_ENDPOINT)


def claim(now: datetime, *, limit: int, delivery_ids: Iterable[int] | None = None
          ) -> list[Claim]:
    """Lease the next attempt of up to `limit` due deliveries (of `delivery_ids` only, if
    given), oldest first, never more per endpoint than its in-flight cap allows and
    never beyond the retry schedule. Runs in the caller's transaction."""
    if limit <= 0:
        return []
    due = Delivery.objects.due(now)
    if delivery_ids is not None:
        due = due.filter(pk__in=list(delivery_ids))
    # Endpoints are locked before any delivery, in id order, as every writer of endpoints
    # does: one claimer at a time counts an endpoint's attempts in flight.
    in_flight = (Delivery.objects.filter(endpoint=OuterRef("pk"), status=DeliveryStatus.PENDING,
                                         leased_until__gt=now)
                 .values("endpoint").annotate(n=Count("pk")).values("n"))
    endpoints = {e.pk: e for e in Endpoint.objects.select_for_update(of=("self",)).enabled()
                 .filter(pk__in=due.values("endpoint_id"))
                 .annotate(busy=Coalesce(Subquery(in_flight), 0)).order_by("pk")}
    room = {pk: max_in_flight(e) - e.busy for pk, e in endpoints.items()
            if e.busy < max_in_flight(e)}
    if not room:
        return []
    # Only endpoints with room are read, so a backlog of one cannot hide the others.
    rows = (due.filter(endpoint_id__in=room).select_related("event")
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("next_attempt_at", "pk")[:limit + sum(room.values())])
    deliveries = []
    for delivery in rows:
        if room[delivery.endpoint_id] > 0 and len(deliveries) < limit:
            room[delivery.endpoint_id] -= 1
            deliveries.append(delivery)
    lost = [Attempt(delivery=d, number=d.attempt_count, attempted_at=d.leased_until - lease(),
                    error=LOST)
            # The lease ran out: the worker holding it stopped before settling.
            for d in deliveries if d.leased_until is not None and d.attempt_count]
    if lost:
        Attempt.objects.bulk_create(lost, ignore_conflicts=True)
    spent = [d.pk for d in deliveries if d.attempt_count >= retry.MAX_ATTEMPTS]
    if spent:
        Delivery.objects.filter(pk__in=spent).update(
            status=DeliveryStatus.EXHAUSTED, next_attempt_at=None, leased_until=None)
    deliveries = [d for d in deliveries if d.attempt_count < retry.MAX_ATTEMPTS]
    if not deliveries:
        return []
    until = now + lease()
    claims, secrets, unreadable = [], {}, set()
    for delivery in deliveries:
        endpoint = endpoints[delivery.endpoint_id]
        if endpoint.pk not in secrets:
            try:
                secrets[endpoint.pk] = live_secrets(endpoint, now)
            except signing.InvalidToken:
                unreadable.add(endpoint.pk)
                secrets[endpoint.pk] = None
        if secrets[endpoint.pk] is None:
            continue
        event = delivery.event
        body = body_of(event)
        headers = signing.headers(secrets[endpoint.pk], event.public_id,
                                  int(now.timestamp()), body)
        claims.append(Claim(delivery.pk, endpoint.pk, delivery.attempt_count + 1, now, until,
                            endpoint.url, {**headers, "user-agent": USER_AGENT}, body))
    Delivery.objects.filter(pk__in=[c.delivery_id for c in claims]).update(
        attempt_count=F("attempt_count") + 1, leased_until=until, next_attempt_at=until)
    for pk in unreadable:
        # Retrying cannot help: say so on the endpoint and in the log, and stop.
        log.error("webhook endpoint %s: its signing secret cannot be decrypted with any key "
                  "of WEBHOOK_SECRET_KEYS; endpoint disabled", endpoints[pk].public_id)
        notices.secret_unreadable(endpoints[pk], now)
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
    attempts written by claims still current. Runs in the caller's transaction.

    This is the one place every attempt's outcome passes through: attempts are
    counted here, by outcome, for /metrics."""
    if not results:
        return []
    deliveries = {d.pk: d for d in Delivery.objects.select_for_update(of=("self",))
                  .select_related("endpoint")
                  .filter(pk__in={c.delivery_id for c, _ in results}).order_by("pk")}
    current, late = [], []
    for claimed, outcome in sorted(results, key=lambda r: r[0].claimed_at):
        delivery = deliveries.get(claimed.delivery_id)
        if delivery is None:
            continue  # deleted meanwhile, with its endpoint
        # Current: this claim still holds the lease. Otherwise it was settled already (a
        # duplicate), or its lease ran out and a later claim recorded it as lost.
        holds = (delivery.status == DeliveryStatus.PENDING and
                 delivery.attempt_count == claimed.number and
                 delivery.leased_until == claimed.leased_until)
        (current if holds else late).append((claimed, outcome, delivery))
        if holds:
            delivery.leased_until = None  # a duplicate in this same batch is late
    attempts = [Attempt(delivery=d, number=c.number, attempted_at=c.claimed_at,
                        status_code=o.status_code, latency_ms=o.latency_ms,
                        error=o.error[:500], response_excerpt=o.excerpt,
                        request_headers=dict(c.headers))
                for c, o, d in current + late]
    Attempt.objects.bulk_create(attempts, ignore_conflicts=True)
    _schedule(current)
    for _, outcome, _ in current:
        ATTEMPTS.labels("succeeded" if outcome.succeeded else
                        "no_response" if outcome.status_code is None else "failed").inc()
    return attempts[:len(current)]


def _schedule(current: list[tuple[Claim, Outcome, Delivery]]) -> None:
    """Each delivery's next state, written in as few statements as states; and its
    endpoint's health, locking only endpoints whose health changes."""
    groups: dict[tuple, list[int]] = {}
    for claimed, outcome, delivery in current:
        now = claimed.claimed_at
        if outcome.succeeded:
            state = (DeliveryStatus.SUCCEEDED, None)
        elif outcome.status_code == 410:
            state = (DeliveryStatus.STOPPED, None)
        else:
            after = _next_attempt(claimed.number, outcome, now)
            state = (DeliveryStatus.PENDING, after) if after else (DeliveryStatus.EXHAUSTED, None)
        groups.setdefault((*state, now), []).append(delivery.pk)
    for (status, next_attempt_at, now), pks in groups.items():
        Delivery.objects.filter(pk__in=pks).update(
            status=status, next_attempt_at=next_attempt_at, last_attempt_at=now,
            leased_until=None)
    changing = {d.endpoint_id for c, o, d in current
                if not notices.unchanged_by(d.endpoint, o)}
    if not changing:
        return
    endpoints = {e.pk: e for e in Endpoint.objects.select_for_update(of=("self",))
                 .select_related("workspace__organization")
                 .filter(pk__in=changing).order_by("pk")}
    for claimed, outcome, delivery in current:
        endpoint = endpoints.get(delivery.endpoint_id)
        if endpoint is None:
            continue
        if outcome.succeeded:
            notices.after_success(endpoint, outcome, claimed.claimed_at)
        else:
            notices.after_failure(endpoint, outcome, claimed.claimed_at)
    for endpoint in endpoints.values():
        endpoint.save(update_fields=["enabled", "disabled_at", "disabled_reason",
                                     "failing_since", "disable_warned_at",
                                     "first_acknowledged_at", "answers_quickly", "updated_at"])


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


def purge_before(cutoff: datetime, *, batch: int = 1000, batches: int = 50) -> int:
    """Delete events created before `cutoff`, with their deliveries and attempts, in
    batches of `batch` events (each its own short transaction), at most `batches` of
    them; events with a delivery still pending are kept. Returns events deleted."""
    deleted = 0
    for _ in range(batches):
        with transaction.atomic():
            ids = list(Event.objects.filter(created_at__lt=cutoff)
                       .exclude(deliveries__status=DeliveryStatus.PENDING)
                       .order_by("created_at").values_list("pk", flat=True)[:batch])
            if not ids:
                break
            Attempt.objects.filter(delivery__event_id__in=ids).delete()
            Delivery.objects.filter(event_id__in=ids).delete()
            Event.objects.filter(pk__in=ids).delete()
        deleted += len(ids)
    return deleted
