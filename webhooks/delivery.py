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
import threading
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from prometheus_client import Counter

from webhooks import notices, payloads, retry, signing
from webhooks.client import USER_AGENT, Outcome, deadline_seconds, post
from webhooks.models import Attempt, Delivery, DeliveryKind, DeliveryStatus, Endpoint, Event

SWEEP_BATCH = 500
log = logging.getLogger(__name__)
LOST = "No outcome: the worker stopped during this attempt."

ATTEMPTS = Counter("portal_webhook_attempts", "Webhook delivery attempts by outcome.",
                   ["outcome"])


def lease() -> timedelta:
    """How long a claimed attempt is held: far longer than its deadline plus settling,
    so an attempt still running never sees its delivery claimed again."""
    return timedelta(seconds=max(60.0, 4 * deadline_seconds()))


_session = threading.local()  # set while engine_session() holds the setting


@contextmanager
def engine_transaction():
    """One short transaction of the engine (see the module docstring on durability)."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and not getattr(_session, "active", False):
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield


@contextmanager
def engine_session():
    """Many engine transactions in a row (the pump's turns): the durability setting is
    made once for the connection's session, not once per transaction, and undone after."""
    if connection.in_atomic_block or getattr(_session, "active", False):
        yield  # the caller's transaction (a test's) or session decides
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    _session.active = True
    try:
        yield
    finally:
        _session.active = False
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


# --- Fan-out ---------------------------------------------------------------------

# Table names, for the engine's few hand-written statements (one per step, no ORM
# objects per delivery: at volume, building them cost more than the POSTs). The SQL is
# assembled from these names and constants only (hence the S608 exemptions); every
# value is a parameter.
_D, _A = Delivery._meta.db_table, Attempt._meta.db_table
_E, _V = Endpoint._meta.db_table, Event._meta.db_table


# Fan-out as common table expressions, shared by `fan_out` and the first statement of
# `claim`: `made` returns the endpoint of each new delivery.
_FAN_OUT = f"""
    ev AS (
        SELECT id, workspace_id, environment, type, endpoint_id FROM {_V}
        WHERE dispatched_at IS NULL {{only}}
        ORDER BY created_at, id LIMIT %(fan_out_limit)s FOR UPDATE SKIP LOCKED),
    made AS (
        INSERT INTO {_D} (event_id, endpoint_id, kind, status, attempt_count,
                          next_attempt_at, created_at)
        SELECT ev.id, ep.id, %(kind)s, %(pending)s, 0, %(now)s, %(created)s
        FROM ev JOIN {_E} ep ON ep.workspace_id = ev.workspace_id
            AND ep.environment = ev.environment AND ep.enabled
        WHERE CASE WHEN ev.endpoint_id IS NOT NULL THEN ep.id = ev.endpoint_id
                   ELSE ev.type = ANY(ep.event_types) END
        ON CONFLICT DO NOTHING RETURNING endpoint_id),
    dispatched AS (
        UPDATE {_V} SET dispatched_at = %(now)s WHERE id = ANY(ARRAY(SELECT id FROM ev))
        RETURNING id)"""  # noqa: S608


def _fan_out_params(now: datetime, limit: int, event_ids: Iterable[int] | None = None
                    ) -> dict:
    return {"event_ids": list(event_ids or []), "fan_out_limit": limit, "now": now,
            "created": timezone.now(), "kind": DeliveryKind.ORIGINAL,
            "pending": DeliveryStatus.PENDING}


def fan_out(now: datetime, *, event_ids: Iterable[int] | None = None,
            limit: int = SWEEP_BATCH) -> int:
    """Create one original delivery per subscribed enabled endpoint (none twice) for up
    to `limit` undispatched events (those of `event_ids` only, if given); returns how
    many events were fanned out. Runs in the caller's transaction, in one statement."""
    only = "AND id = ANY(%(event_ids)s)" if event_ids is not None else ""
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {_FAN_OUT.format(only=only)} SELECT count(*) FROM dispatched",  # noqa: S608
                       _fan_out_params(now, limit, event_ids))
        return cursor.fetchone()[0]


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


def max_in_flight(answers_quickly: bool) -> int:
    """How many attempts an endpoint may have in flight, across all workers: a few while
    it is new, slow or failing; more once its latest attempt succeeded quickly."""
    if answers_quickly:
        return int(settings.WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT)
    return int(settings.WEBHOOK_MAX_IN_FLIGHT_PER_SLOW_ENDPOINT)


def claim(now: datetime, *, limit: int, delivery_ids: Iterable[int] | None = None,
          fan_out_first: bool = False) -> list[Claim]:
    """Lease the next attempt of up to `limit` due deliveries (of `delivery_ids` only, if
    given), oldest first, never more per endpoint than its in-flight cap allows and
    never beyond the retry schedule; with `fan_out_first`, fan waiting events out first
    (as `fan_out`), in the same statement. Runs in the caller's transaction: two
    statements (lock the endpoints; count, pick and lease), whatever the batch's size."""
    if limit <= 0:
        return []
    only = "AND d.id = ANY(%(ids)s)" if delivery_ids is not None else ""
    params = {"now": now, "ids": list(delivery_ids or []), "pending": DeliveryStatus.PENDING}
    ctes = [f"""due AS (
        SELECT d.endpoint_id FROM {_D} d
        WHERE d.status = %(pending)s AND d.next_attempt_at <= %(now)s {only})"""]  # noqa: S608
    if fan_out_first:
        params.update(_fan_out_params(now, SWEEP_BATCH))
        # The deliveries just made are not visible to `due` (one snapshot per statement).
        ctes = [_FAN_OUT.format(only=""), ctes[0],
                "due_or_made AS (SELECT endpoint_id FROM due UNION SELECT endpoint_id FROM made)"]
    with connection.cursor() as cursor:
        # Endpoints are locked before any delivery, in id order, as every writer of
        # endpoints does: one claimer at a time counts an endpoint's attempts in flight,
        # and counts them in the next statement, which sees the leases of every claimer
        # that held the lock before.
        cursor.execute(f"""
            WITH {", ".join(ctes)}
            SELECT ep.id, ep.answers_quickly, ep.url, ep.secret_encrypted,
                   ep.previous_secret_encrypted, ep.previous_secret_expires_at
            FROM {_E} ep WHERE ep.enabled
                AND ep.id IN (SELECT endpoint_id FROM {"due_or_made" if fan_out_first else "due"})
            ORDER BY ep.id FOR UPDATE OF ep""", params)  # noqa: S608
        endpoints = {row[0]: row for row in cursor.fetchall()}
        secrets = _readable_secrets(endpoints, now)
        if not secrets:
            return []
        caps = {pk: max_in_flight(endpoints[pk][1]) for pk in secrets}
        until = now + lease()
        # Only endpoints with room are read, so a backlog of one cannot hide the others.
        # An attempt whose lease ran out (its worker stopped before settling) is recorded
        # as lost; a delivery with no attempt left in the schedule ends exhausted.
        cursor.execute(f"""
            WITH cap AS (
                SELECT c.id, c.cap - (SELECT count(*) FROM {_D} f WHERE f.endpoint_id = c.id
                    AND f.status = %(pending)s AND f.leased_until > %(now)s) AS room
                FROM unnest(%(eps)s::bigint[], %(caps)s::int[]) AS c(id, cap)),
            due AS MATERIALIZED (
                SELECT d.id, d.endpoint_id, d.attempt_count, d.leased_until, d.next_attempt_at
                FROM {_D} d
                WHERE d.status = %(pending)s AND d.next_attempt_at <= %(now)s
                    AND d.endpoint_id IN (SELECT id FROM cap WHERE room > 0) {only}
                ORDER BY d.next_attempt_at, d.id LIMIT %(n)s FOR UPDATE OF d SKIP LOCKED),
            chosen AS (
                SELECT due.* FROM (
                    SELECT *, row_number() OVER (PARTITION BY endpoint_id
                                                 ORDER BY next_attempt_at, id) AS nth
                    FROM due) due JOIN cap ON cap.id = due.endpoint_id
                WHERE due.nth <= cap.room ORDER BY due.next_attempt_at, due.id
                LIMIT %(limit)s),
            lost AS (
                INSERT INTO {_A} (delivery_id, number, attempted_at, latency_ms, error,
                                  response_excerpt, request_headers)
                SELECT id, attempt_count, leased_until - %(lease)s, 0, %(lost)s, '', '{{}}'
                FROM chosen WHERE leased_until IS NOT NULL AND attempt_count > 0
                ON CONFLICT DO NOTHING)
            UPDATE {_D} d SET
                status = CASE WHEN c.spent THEN %(exhausted)s ELSE d.status END,
                attempt_count = d.attempt_count + (NOT c.spent)::int,
                leased_until = CASE WHEN c.spent THEN NULL ELSE %(until)s::timestamptz END,
                next_attempt_at = CASE WHEN c.spent THEN NULL ELSE %(until)s::timestamptz END
            FROM (SELECT *, attempt_count >= %(max)s AS spent FROM chosen) c, {_V} e
            WHERE d.id = c.id AND e.id = d.event_id
            RETURNING d.id, d.endpoint_id, d.attempt_count, c.spent, c.next_attempt_at,
                e.public_id, e.type, e.created_at, e.data, e.endpoint_id IS NOT NULL""",  # noqa: S608
            {**params, "eps": list(caps), "caps": list(caps.values()),
             "n": limit + sum(caps.values()), "limit": limit, "lease": lease(),
             "lost": LOST, "exhausted": DeliveryStatus.EXHAUSTED, "until": until,
             "max": retry.MAX_ATTEMPTS})
        rows = sorted(cursor.fetchall(), key=lambda row: (row[4], row[0]))
    timestamp = int(now.timestamp())
    claims = []
    for pk, endpoint_id, number, spent, _, public_id, type_, created_at, data, test in rows:
        if spent:
            continue
        body = payloads.body(type_, created_at, json.loads(data) if isinstance(data, str) else data,
                     test)
        headers = signing.headers(secrets[endpoint_id], public_id, timestamp, body)
        headers["user-agent"] = USER_AGENT
        claims.append(Claim(pk, endpoint_id, number, now, until, endpoints[endpoint_id][2],
                            headers, body))
    return claims


def _readable_secrets(endpoints: dict[int, tuple], now: datetime) -> dict[int, list[str]]:
    """Each endpoint's live secrets; an endpoint whose secret cannot be decrypted is left
    out, disabled and reported: retrying cannot help it."""
    secrets = {}
    for pk, row in endpoints.items():
        try:
            secrets[pk] = payloads.secrets(*row[3:6], now)
        except signing.InvalidToken:
            endpoint = Endpoint.objects.get(pk=pk)
            log.error("webhook endpoint %s: its signing secret cannot be decrypted with any "
                      "key of WEBHOOK_SECRET_KEYS; endpoint disabled", endpoint.public_id)
            notices.secret_unreadable(endpoint, now)
    return secrets


# --- Settle ----------------------------------------------------------------------

def _next_state(claimed: Claim, outcome: Outcome) -> tuple[str, datetime | None]:
    """The delivery's status after this attempt, and when its next attempt is due."""
    if outcome.succeeded:
        return DeliveryStatus.SUCCEEDED, None
    if outcome.status_code == 410:
        return DeliveryStatus.STOPPED, None
    delay = retry.next_delay(claimed.number)
    if delay is None:
        return DeliveryStatus.EXHAUSTED, None
    if outcome.status_code in (429, 503):
        # The receiver asked for a pause: wait for whichever is longer.
        delay = max(delay, retry.retry_after(outcome.retry_after, claimed.claimed_at)
                    or timedelta(0))
    return DeliveryStatus.PENDING, claimed.claimed_at + delay


def settle(results: list[tuple[Claim, Outcome]]) -> list[tuple[Claim, Outcome]]:
    """Write each attempt (once per number) and schedule what comes next; returns the
    results of claims still current. Runs in the caller's transaction: one statement
    (the attempt rows and the deliveries' next state), plus the endpoints whose health
    changes.

    This is the one place every attempt's outcome passes through: attempts are
    counted here, by outcome, for /metrics."""
    if not results:
        return []
    # Current: the claim still holds the lease. Of one delivery's claims in one batch
    # only the latest can (each claim counts one more attempt); a claim settled already
    # (a duplicate), or whose lease ran out and a later claim recorded it as lost, is late.
    latest: dict[int, tuple[Claim, Outcome]] = {}
    for claimed, outcome in results:
        held = latest.get(claimed.delivery_id)
        if held is None or claimed.number > held[0].number:
            latest[claimed.delivery_id] = (claimed, outcome)
    ordered = sorted(latest.values(), key=lambda r: r[0].delivery_id)
    states = [_next_state(c, o) for c, o in ordered]
    with connection.cursor() as cursor:
        # Every attempt is written, current or late, once per number; none of a delivery
        # deleted meanwhile with its endpoint.
        # Each side is one JSON parameter: psycopg quotes one string, not a dozen arrays
        # element by element (which cost more than the statement, per turn).
        cursor.execute(f"""
            WITH written AS (
                INSERT INTO {_A} (delivery_id, number, attempted_at, status_code,
                                  latency_ms, error, response_excerpt, request_headers)
                SELECT a.id, a.number, a.at, a.code, a.ms, a.error, a.excerpt, a.headers
                FROM jsonb_to_recordset(%(attempts)s::jsonb) AS a(
                    id bigint, number int, at timestamptz, code int, ms int, error text,
                    excerpt text, headers jsonb)
                WHERE a.id IN (  -- by primary key, not by a scan of every row
                    SELECT d.id FROM {_D} d WHERE d.id = ANY(%(attempted)s))
                ON CONFLICT DO NOTHING)
            UPDATE {_D} d SET status = v.status, next_attempt_at = v.next_at,
                last_attempt_at = v.at, leased_until = NULL
            FROM jsonb_to_recordset(%(deliveries)s::jsonb) AS v(
                id bigint, number int, leased_until timestamptz, status text,
                next_at timestamptz, at timestamptz), {_E} ep
            WHERE d.id = v.id AND ep.id = d.endpoint_id AND d.status = %(pending)s
                AND d.attempt_count = v.number AND d.leased_until = v.leased_until
            RETURNING d.id, {notices.STEADY_SQL}""",  # noqa: S608
            {"attempts": json.dumps([
                {"id": c.delivery_id, "number": c.number, "at": c.claimed_at,
                 "code": o.status_code, "ms": o.latency_ms, "error": o.error[:500],
                 # PostgreSQL text holds no NUL character; a receiver may send one.
                 "excerpt": o.excerpt.replace("\x00", ""), "headers": c.headers}
                for c, o in results], default=str),
             "attempted": [c.delivery_id for c, _ in results],
             "deliveries": json.dumps([
                 {"id": c.delivery_id, "number": c.number, "leased_until": c.leased_until,
                  "status": str(status), "next_at": next_at, "at": c.claimed_at}
                 for (c, _), (status, next_at) in zip(ordered, states, strict=True)],
                 default=str),
             "pending": DeliveryStatus.PENDING})
        steady = dict(cursor.fetchall())
    current = [(c, o) for c, o in ordered if c.delivery_id in steady]
    for _, outcome in current:
        ATTEMPTS.labels("succeeded" if outcome.succeeded else
                        "no_response" if outcome.status_code is None else "failed").inc()
    changing = {c.endpoint_id for c, o in current
                if not (steady[c.delivery_id] and notices.quick(o))}
    if changing:
        _update_health(changing, current)
    return current


def _update_health(changing: set[int], current: list[tuple[Claim, Outcome]]) -> None:
    """Each endpoint's health after these outcomes, locking only endpoints it changes."""
    endpoints = {e.pk: e for e in Endpoint.objects.select_for_update(of=("self",))
                 .select_related("workspace__organization")
                 .filter(pk__in=changing).order_by("pk")}
    for claimed, outcome in sorted(current, key=lambda r: r[0].claimed_at):
        endpoint = endpoints.get(claimed.endpoint_id)
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
    if not written:
        return None
    return Attempt.objects.get(delivery_id=delivery_id, number=claimed[0].number)
