"""Every write about webhook endpoints. A signing secret leaves the database only
decrypted in the return value of reveal_secret, after reauthentication."""

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.models import Action
from audit.services import record
from outbox import catalog
from outbox.services import emit, notify
from webhooks import signing
from webhooks.models import (
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Endpoint,
    Environment,
    Event,
)
from webhooks.urlguard import UnsafeURL, check_url
from workspaces.models import Workspace

MAX_ENDPOINTS = 20
ROTATION_OVERLAP = timedelta(hours=24)
REPLAY_LIMIT = 5000
RATE_WINDOW = timedelta(hours=1)


def _check_environment(workspace: Workspace, environment: str) -> None:
    if workspace.is_open(environment):
        return
    if environment == Environment.SANDBOX:
        raise ValidationError("Sandbox webhooks are available once sandbox access is approved.")
    raise ValidationError("Production webhooks are available once the production review "
                          "is approved.")


def _clean(environment: str, url: str, description: str, event_types) -> dict:
    try:
        url = check_url(url.strip(), require_https=environment == Environment.PRODUCTION,
                        allow_loopback=settings.WEBHOOKS_ALLOW_LOOPBACK)
    except UnsafeURL as error:
        raise ValidationError({"url": error.message}) from None
    event_types = list(dict.fromkeys(event_types))
    if not event_types or not all(catalog.is_known(t) for t in event_types):
        raise ValidationError({"event_types": "Choose at least one event type."})
    return {"url": url, "description": " ".join(description.split()),
            "event_types": event_types}


def _encrypt(secret: str) -> str:
    return signing.encrypt_secret(secret, settings.WEBHOOK_SECRET_KEYS)


def _lock(workspace: Workspace, environment: str, public_id: str) -> Endpoint:
    endpoint = (Endpoint.objects.select_for_update().for_workspace(workspace)
                .filter(environment=environment, public_id=public_id).first())
    if endpoint is None:
        raise ValidationError("That endpoint does not exist.")
    return endpoint


def _deliver_on_commit() -> None:
    transaction.on_commit(lambda: notify("webhooks.tasks.deliver"))


@transaction.atomic
def create_endpoint(*, actor, workspace: Workspace, environment: str, url: str,
                    event_types, description: str = "") -> Endpoint:
    """Add an endpoint with a new signing secret, checked URL and subscriptions."""
    workspace = Workspace.objects.select_for_update().get(pk=workspace.pk)
    _check_environment(workspace, environment)
    fields = _clean(environment, url, description, event_types)
    if Endpoint.objects.for_workspace(workspace).filter(
            environment=environment).count() >= MAX_ENDPOINTS:
        raise ValidationError(f"A workspace has at most {MAX_ENDPOINTS} {environment} "
                              "endpoints. Delete one you no longer use first.")
    endpoint = Endpoint.objects.create(
        workspace=workspace, environment=environment, created_by=actor,
        secret_encrypted=_encrypt(signing.new_secret()), **fields)
    record(action=Action.WEBHOOK_ENDPOINT_CREATED, actor=actor, workspace=workspace,
           target=endpoint,
           details={"endpoint_id": endpoint.public_id, "url": endpoint.url,
                    "environment": environment, "event_types": endpoint.event_types})
    return endpoint


@transaction.atomic
def update_endpoint(*, actor, workspace: Workspace, environment: str, public_id: str,
                    url: str, event_types, description: str = "") -> Endpoint:
    """Change an endpoint's URL, description or subscriptions."""
    endpoint = _lock(workspace, environment, public_id)
    fields = _clean(environment, url, description, event_types)
    changed = {name: value for name, value in fields.items()
               if getattr(endpoint, name) != value}
    for name, value in changed.items():
        setattr(endpoint, name, value)
    endpoint.save()
    record(action=Action.WEBHOOK_ENDPOINT_UPDATED, actor=actor, workspace=workspace,
           target=endpoint,
           details={"endpoint_id": endpoint.public_id, "url": endpoint.url,
                    "changed": sorted(changed)})
    return endpoint


@transaction.atomic
def set_endpoint_enabled(*, actor, workspace: Workspace, environment: str, public_id: str,
                         enabled: bool, reason: str = "") -> Endpoint:
    """Disable an endpoint (deliveries wait) or enable it (waiting deliveries resume)."""
    endpoint = _lock(workspace, environment, public_id)
    if endpoint.enabled == enabled:
        raise ValidationError(f"That endpoint is already {'enabled' if enabled else 'disabled'}.")
    endpoint.enabled = enabled
    if enabled:
        endpoint.disabled_at, endpoint.disabled_reason = None, ""
        endpoint.failing_since = endpoint.disable_warned_at = None
    else:
        reason = " ".join(reason.split()) or "Disabled by a member of the workspace."
        endpoint.disabled_at, endpoint.disabled_reason = timezone.now(), reason[:300]
    endpoint.save()
    record(action=Action.WEBHOOK_ENDPOINT_ENABLED if enabled
           else Action.WEBHOOK_ENDPOINT_DISABLED, actor=actor, workspace=workspace, target=endpoint,
           details={"endpoint_id": endpoint.public_id, "url": endpoint.url,
                    **({} if enabled else {"reason": endpoint.disabled_reason})})
    if enabled:
        _deliver_on_commit()
    return endpoint


@transaction.atomic
def reveal_secret(*, actor, workspace: Workspace, environment: str, public_id: str) -> str:
    """The endpoint's current signing secret; revealing it is an audit event."""
    endpoint = _lock(workspace, environment, public_id)
    record(action=Action.WEBHOOK_SECRET_REVEALED, actor=actor, workspace=workspace, target=endpoint,
           details={"endpoint_id": endpoint.public_id, "url": endpoint.url})
    return signing.decrypt_secret(endpoint.secret_encrypted, settings.WEBHOOK_SECRET_KEYS)


@transaction.atomic
def rotate_secret(*, actor, workspace: Workspace, environment: str, public_id: str) -> Endpoint:
    """A new signing secret; the previous one still signs for 24 hours beside it. Refused
    while an earlier rotation's overlap runs, so no secret a receiver holds stops signing
    before its 24 hours are up."""
    endpoint = _lock(workspace, environment, public_id)
    now = timezone.now()
    if endpoint.previous_secret_expires_at and endpoint.previous_secret_expires_at > now:
        raise ValidationError(
            "The secret before this one still signs deliveries until "
            f"{endpoint.previous_secret_expires_at:%d %b %Y, %H:%M} UTC. Rotate again after "
            "that, so receivers that still hold it keep accepting deliveries meanwhile.")
    try:
        signing.decrypt_secret(endpoint.secret_encrypted, settings.WEBHOOK_SECRET_KEYS)
    except signing.InvalidToken:
        # A secret no key decrypts cannot sign beside the new one: drop it.
        endpoint.previous_secret_encrypted, endpoint.previous_secret_expires_at = "", None
    else:
        endpoint.previous_secret_encrypted = endpoint.secret_encrypted
        endpoint.previous_secret_expires_at = now + ROTATION_OVERLAP
    endpoint.secret_encrypted = _encrypt(signing.new_secret())
    endpoint.save()
    record(action=Action.WEBHOOK_SECRET_ROTATED, actor=actor, workspace=workspace, target=endpoint,
           details={"endpoint_id": endpoint.public_id, "url": endpoint.url,
                    "previous_secret_expires_at": endpoint.previous_secret_expires_at
                    and endpoint.previous_secret_expires_at.isoformat()})
    return endpoint


def _hourly_limit(workspace: Workspace, now: datetime, *, used, limit: int, adding: int,
                  what: str) -> None:
    """Refuse when `used` (a queryset of this workspace's rows of the last hour, with a
    `created_at`) plus `adding` would exceed `limit`, saying when there is room again."""
    window = used.filter(created_at__gt=now - RATE_WINDOW)
    count = window.count()
    if count + adding <= limit:
        return
    oldest = window.order_by("created_at").values_list("created_at", flat=True).first()
    again = (oldest or now) + RATE_WINDOW
    raise ValidationError(f"This workspace may send {limit} {what} an hour and has sent "
                          f"{count} in the last hour. Try again after {again:%H:%M} UTC.")


def _lock_workspace(workspace: Workspace) -> Workspace:
    # Serializes the hourly counts of one workspace across its endpoints.
    return Workspace.objects.select_for_update().get(pk=workspace.pk)


@transaction.atomic
def send_test_event(*, actor, workspace: Workspace, environment: str, public_id: str,
                    event_type: str = "webhook.test") -> Event:
    """A test event delivered to this one endpoint: webhook.test, or the catalogue's
    example of a type it subscribes to. At most WEBHOOK_TEST_EVENTS_PER_HOUR a workspace."""
    workspace = _lock_workspace(workspace)
    endpoint = _lock(workspace, environment, public_id)
    if not endpoint.enabled:
        raise ValidationError("Enable the endpoint before sending it a test event.")
    if event_type != "webhook.test" and event_type not in endpoint.event_types:
        raise ValidationError({"event_type": "Choose an event type this endpoint receives."})
    now = timezone.now()
    _hourly_limit(workspace, now, used=Event.objects.filter(workspace=workspace,
                                                            endpoint__isnull=False),
                  limit=settings.WEBHOOK_TEST_EVENTS_PER_HOUR, adding=1, what="test events")
    data = ({"message": f"Hello from the {environment}", "endpoint_id": endpoint.public_id}
            if event_type == "webhook.test" else catalog.TYPES[event_type].example)
    event = emit(workspace=workspace, environment=environment, type=event_type,
                 endpoint=endpoint, data=data)
    record(action=Action.WEBHOOK_TEST_SENT, actor=actor, workspace=workspace, target=endpoint,
           details={"endpoint_id": endpoint.public_id, "event_id": event.public_id,
                    "type": event_type})
    return event


def _replays(workspace: Workspace):
    return Delivery.objects.filter(endpoint__workspace=workspace, kind=DeliveryKind.REPLAY)


@transaction.atomic
def retry_delivery(*, actor, workspace: Workspace, environment: str, public_id: str,
                   delivery_id: int) -> Delivery:
    """Attempt a waiting delivery now instead of at its scheduled time; a finished one
    (succeeded, failed or stopped) is sent again as a new delivery of the same event."""
    workspace = _lock_workspace(workspace)
    endpoint = _lock(workspace, environment, public_id)
    delivery = (Delivery.objects.select_for_update().for_endpoint(endpoint)
                .select_related("event").filter(pk=delivery_id).first())
    if delivery is None:
        raise ValidationError("That delivery does not exist.")
    if not endpoint.enabled:
        raise ValidationError("Enable the endpoint before sending it events again.")
    now = timezone.now()
    if delivery.status == DeliveryStatus.PENDING:
        delivery.next_attempt_at = now
        delivery.save(update_fields=["next_attempt_at"])
        action = Action.WEBHOOK_DELIVERY_RETRIED
    else:
        _hourly_limit(workspace, now, used=_replays(workspace),
                      limit=settings.WEBHOOK_REPLAYS_PER_HOUR, adding=1, what="replayed events")
        delivery = Delivery.objects.create(event=delivery.event, endpoint=endpoint,
                                           kind=DeliveryKind.REPLAY, next_attempt_at=now)
        action = Action.WEBHOOK_EVENT_RESENT
    record(action=action, actor=actor, workspace=workspace, target=endpoint,
           details={"endpoint_id": endpoint.public_id, "event_id": delivery.event.public_id})
    _deliver_on_commit()
    return delivery


@transaction.atomic
def delete_endpoint(*, actor, workspace: Workspace, environment: str, public_id: str) -> None:
    """Remove an endpoint with its deliveries and their attempts; nothing more is sent to
    it, and it no longer counts against the workspace's endpoints."""
    endpoint = _lock(workspace, environment, public_id)
    record(action=Action.WEBHOOK_ENDPOINT_DELETED, actor=actor, workspace=workspace,
           target=endpoint, details={"endpoint_id": endpoint.public_id, "url": endpoint.url,
                                     "environment": environment})
    endpoint.delete()


@transaction.atomic
def replay_since(*, actor, workspace: Workspace, environment: str, public_id: str,
                 since: datetime) -> int:
    """New deliveries to this endpoint of every event it subscribes to since `since`;
    returns how many. Each keeps its event's webhook-id."""
    workspace = _lock_workspace(workspace)
    endpoint = _lock(workspace, environment, public_id)
    now = timezone.now()
    if since > now:
        raise ValidationError({"since": "Choose a time in the past."})
    if not endpoint.enabled:
        raise ValidationError("Enable the endpoint before replaying events to it.")
    events = (Event.objects.for_scope(workspace, environment)
              .filter(created_at__gte=since, created_at__lte=now,
                      type__in=endpoint.event_types, endpoint__isnull=True)
              .order_by("created_at").values_list("pk", flat=True))
    event_ids = list(events[:REPLAY_LIMIT + 1])
    if len(event_ids) > REPLAY_LIMIT:
        raise ValidationError({"since": f"That replays more than {REPLAY_LIMIT} events; "
                                        "choose a later time."})
    _hourly_limit(workspace, now, used=_replays(workspace),
                  limit=settings.WEBHOOK_REPLAYS_PER_HOUR, adding=len(event_ids),
                  what="replayed events")
    deliveries = Delivery.objects.bulk_create(
        [Delivery(event_id=pk, endpoint=endpoint, kind=DeliveryKind.REPLAY, next_attempt_at=now)
         for pk in event_ids])
    record(action=Action.WEBHOOK_REPLAYED, actor=actor, workspace=workspace,
           target=endpoint, details={"endpoint_id": endpoint.public_id,
                                     "since": since.isoformat(), "events": len(deliveries)})
    _deliver_on_commit()
    return len(deliveries)


def reencrypt_secrets(*, batch: int = 200) -> tuple[int, list[str]]:
    """Re-encrypt every endpoint's stored secrets under the first WEBHOOK_SECRET_KEYS key,
    so older keys can be retired; returns (endpoints re-encrypted, public ids of those
    whose secret no key decrypts). Each batch is its own transaction."""
    keys = settings.WEBHOOK_SECRET_KEYS
    done, unreadable, last = 0, [], 0
    while True:
        with transaction.atomic():
            endpoints = list(Endpoint.objects.select_for_update().filter(pk__gt=last)
                             .order_by("pk")[:batch])
            for endpoint in endpoints:
                try:
                    endpoint.secret_encrypted = signing.rotate_secret(
                        endpoint.secret_encrypted, keys)
                    if endpoint.previous_secret_encrypted:
                        endpoint.previous_secret_encrypted = signing.rotate_secret(
                            endpoint.previous_secret_encrypted, keys)
                except signing.InvalidToken:
                    unreadable.append(endpoint.public_id)
                    continue
                endpoint.save(update_fields=["secret_encrypted", "previous_secret_encrypted"])
                done += 1
        if len(endpoints) < batch:
            return done, unreadable
        last = endpoints[-1].pk
