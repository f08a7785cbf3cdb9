"""The delivery engine: fan-out, claiming an attempt, the HTTP POST and its outcome.

An attempt is claimed in a short transaction that pushes `next_attempt_at` forward as
a lease, so a duplicated task finds nothing due; the POST runs outside any
transaction; its outcome is written in a second short transaction.
"""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone
from prometheus_client import Counter

from audit.models import Action
from audit.services import record
from webhooks import retry, signing
from webhooks.client import TIMEOUT, USER_AGENT, Outcome, post
from webhooks.models import Attempt, Delivery, DeliveryStatus, Endpoint, Event
from workspaces.models import Membership
from workspaces.roles import Role

# Longer than the client's deadline, so a lease outlives the attempt that holds it.
LEASE = timedelta(seconds=TIMEOUT * 4)
SWEEP_BATCH = 500
# An event this young is about to be dispatched by its own on_commit callback.
DISPATCH_GRACE = timedelta(seconds=10)

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


# --- Fan-out and sweep ----------------------------------------------------------

def dispatch(event_id: int, *, now: datetime | None = None) -> list[int]:
    """Create one original delivery per subscribed enabled endpoint (none twice) and
    return the ids of the event's deliveries still waiting for a first attempt."""
    now = now or timezone.now()
    with transaction.atomic():
        event = Event.objects.select_for_update().filter(pk=event_id).first()
        if event is None:
            return []
        endpoints = Endpoint.objects.filter(workspace_id=event.workspace_id,
                                            environment=event.environment).enabled()
        endpoints = (endpoints.filter(pk=event.endpoint_id) if event.endpoint_id
                     else endpoints.subscribed_to(event.type))
        Delivery.objects.bulk_create(
            [Delivery(event=event, endpoint_id=pk, next_attempt_at=now)
             for pk in endpoints.values_list("pk", flat=True)], ignore_conflicts=True)
        if event.dispatched_at is None:
            event.dispatched_at = now
            event.save(update_fields=["dispatched_at"])
        return list(Delivery.objects.filter(event=event, status=DeliveryStatus.PENDING,
                                            attempt_count=0).values_list("pk", flat=True))


def sweep(*, now: datetime | None = None) -> tuple[list[int], list[int]]:
    """(due delivery ids, undispatched event ids), oldest first, at most a batch each."""
    now = now or timezone.now()
    due = list(Delivery.objects.due(now).order_by("next_attempt_at")
               .values_list("pk", flat=True)[:SWEEP_BATCH])
    undispatched = list(Event.objects.undispatched()
                        .filter(created_at__lte=now - DISPATCH_GRACE).order_by("created_at")
                        .values_list("pk", flat=True)[:SWEEP_BATCH])
    return due, undispatched


# --- One attempt ----------------------------------------------------------------

@dataclass(frozen=True)
class Claim:
    delivery_id: int
    number: int
    url: str
    headers: dict[str, str]
    body: bytes


def claim(delivery_id: int, now: datetime) -> Claim | None:
    """Take the next attempt of a due delivery, or None if it is not due, already taken
    (locked or leased by another task), finished, or its endpoint is disabled."""
    with transaction.atomic():
        delivery = (Delivery.objects.select_for_update(skip_locked=True, of=("self",))
                    .select_related("event", "endpoint")
                    .filter(pk=delivery_id, status=DeliveryStatus.PENDING,
                            next_attempt_at__lte=now).first())
        if delivery is None or not delivery.endpoint.enabled:
            return None
        delivery.attempt_count += 1
        delivery.next_attempt_at = now + LEASE
        delivery.save(update_fields=["attempt_count", "next_attempt_at"])
        event, endpoint = delivery.event, delivery.endpoint
        body = body_of(event)
        headers = signing.headers(live_secrets(endpoint, now), event.public_id,
                                  int(now.timestamp()), body)
    return Claim(delivery.pk, delivery.attempt_count, endpoint.url,
                 {**headers, "user-agent": USER_AGENT}, body)


def _people_to_warn(endpoint: Endpoint) -> list[str]:
    return list(Membership.objects.for_organization(endpoint.workspace.organization_id)
                .filter(roles__overlap=[Role.OWNER, Role.TECHNICAL_LEAD])
                .values_list("user__email", flat=True))


def _mail(endpoint: Endpoint, subject: str, text: str) -> None:
    to = _people_to_warn(endpoint)
    if to:
        url = (f"{settings.SITE_URL}/o/{endpoint.workspace.organization.slug}/w/"
               f"{endpoint.workspace.slug}/webhooks/{endpoint.environment}/"
               f"{endpoint.public_id}/")
        send_mail(subject, f"{text}\n\nEndpoint: {endpoint.url}\n{url}\n", None, to)


def _disable(endpoint: Endpoint, reason: str, now: datetime) -> None:
    endpoint.enabled, endpoint.disabled_at, endpoint.disabled_reason = False, now, reason
    record(action=Action.WEBHOOK_ENDPOINT_DISABLED, workspace=endpoint.workspace,
           target=endpoint, details={"endpoint_id": endpoint.public_id, "reason": reason,
                                     "by": "platform"})
    _mail(endpoint, "A webhook endpoint was disabled",
          f"We disabled the webhook endpoint below: {reason} Enable it again on the "
          "Webhooks page once it works.")


def _after_failure(endpoint: Endpoint, outcome: Outcome, now: datetime) -> None:
    if endpoint.failing_since is None:
        endpoint.failing_since = now
    if outcome.status_code == 410:
        _disable(endpoint, "The endpoint answered 410 Gone.", now)
    elif retry.should_disable(endpoint.failing_since, now):
        _disable(endpoint, f"Every delivery failed since "
                           f"{endpoint.failing_since:%d %b %Y %H:%M} UTC.", now)
    elif retry.should_warn(endpoint.failing_since, now) and endpoint.disable_warned_at is None:
        endpoint.disable_warned_at = now
        when = endpoint.failing_since + retry.DISABLE_AFTER
        _mail(endpoint, "A webhook endpoint will be disabled tomorrow",
              f"Every delivery to the webhook endpoint below has failed since "
              f"{endpoint.failing_since:%d %b %Y %H:%M} UTC. Unless one succeeds, we disable "
              f"it on {when:%d %b %Y %H:%M} UTC.")


def _next_attempt(number: int, outcome: Outcome, now: datetime) -> datetime | None:
    delay = retry.next_delay(number)
    if delay is None:
        return None
    if outcome.status_code in (429, 503):
        # The receiver asked for a pause: wait for whichever is longer.
        delay = max(delay, retry.retry_after(outcome.retry_after, now) or timedelta(0))
    return now + delay


def settle(claimed: Claim, outcome: Outcome, now: datetime) -> Attempt | None:
    """Write the attempt (once per number) and schedule what comes next."""
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update(of=("self",)).get(pk=claimed.delivery_id)
        try:
            with transaction.atomic():
                attempt = Attempt.objects.create(
                    delivery=delivery, number=claimed.number, attempted_at=now,
                    status_code=outcome.status_code, latency_ms=outcome.latency_ms,
                    error=outcome.error[:500], response_excerpt=outcome.excerpt)
        except IntegrityError:
            return None  # a duplicate of this very attempt already wrote it
        if delivery.attempt_count != claimed.number or delivery.status != DeliveryStatus.PENDING:
            return attempt  # a later claim owns the schedule now
        endpoint = (Endpoint.objects.select_for_update(of=("self",))
                    .select_related("workspace__organization").get(pk=delivery.endpoint_id))
        delivery.last_attempt_at = now
        if outcome.succeeded:
            delivery.status, delivery.next_attempt_at = DeliveryStatus.SUCCEEDED, None
            endpoint.failing_since = endpoint.disable_warned_at = None
            endpoint.first_acknowledged_at = endpoint.first_acknowledged_at or now
        else:
            _after_failure(endpoint, outcome, now)
            delivery.next_attempt_at = _next_attempt(claimed.number, outcome, now)
            if outcome.status_code == 410:
                delivery.status, delivery.next_attempt_at = DeliveryStatus.STOPPED, None
            elif delivery.next_attempt_at is None:
                delivery.status = DeliveryStatus.EXHAUSTED
        delivery.save(update_fields=["status", "next_attempt_at", "last_attempt_at"])
        endpoint.save(update_fields=["enabled", "disabled_at", "disabled_reason",
                                     "failing_since", "disable_warned_at",
                                     "first_acknowledged_at"])
    return attempt


def attempt(delivery_id: int, *, now: datetime | None = None) -> Attempt | None:
    """Make the next attempt of a delivery if it is due: claim, POST, settle."""
    now = now or timezone.now()
    claimed = claim(delivery_id, now)
    if claimed is None:
        return None
    outcome = post(claimed.url, claimed.headers, claimed.body)
    written = settle(claimed, outcome, now)
    if written is not None:
        ATTEMPTS.labels("succeeded" if outcome.succeeded else
                        "no_response" if outcome.status_code is None else "failed").inc()
    return written
