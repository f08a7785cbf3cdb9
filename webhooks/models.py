import secrets

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from outbox.models import Event
from outbox.models import message_id as outbox_message_id
from workspaces.models import Environment

__all__ = [
    "Attempt",
    "Delivery",
    "DeliveryKind",
    "DeliveryStatus",
    "Endpoint",
    "EndpointQuerySet",
    "Environment",
    "Event",
]


def _public_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def endpoint_id() -> str:
    return _public_id("ep")


# Kept here for webhooks' first migration, which names it.
message_id = outbox_message_id


class EndpointQuerySet(models.QuerySet):
    def for_workspace(self, workspace) -> "EndpointQuerySet":
        """Endpoints of one workspace."""
        return self.filter(workspace=workspace)

    def enabled(self) -> "EndpointQuerySet":
        """Endpoints that receive deliveries."""
        return self.filter(enabled=True)

    def subscribed_to(self, event_type: str) -> "EndpointQuerySet":
        """Endpoints whose subscriptions include this event type."""
        return self.filter(event_types__contains=[event_type])


class Endpoint(models.Model):
    """A URL of a workspace that receives signed events of one environment."""

    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE,
                                  related_name="webhook_endpoints")
    environment = models.CharField(max_length=16, choices=Environment.choices)
    public_id = models.CharField(max_length=32, unique=True, default=endpoint_id)
    url = models.URLField(max_length=2048)
    description = models.CharField(max_length=200, blank=True)
    event_types = ArrayField(models.CharField(max_length=64))
    # Fernet tokens only: the whsec_ secret itself is never stored.
    secret_encrypted = models.TextField()
    previous_secret_encrypted = models.TextField(blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    # Start of the current run of failures without a success; None while healthy.
    failing_since = models.DateTimeField(null=True, blank=True)
    disable_warned_at = models.DateTimeField(null=True, blank=True)
    first_acknowledged_at = models.DateTimeField(null=True, blank=True)
    # True while its latest attempt succeeded quickly: only then may it have many
    # attempts in flight (settings.WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT).
    answers_quickly = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = EndpointQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["workspace", "environment", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.url} ({self.public_id})"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    EXHAUSTED = "exhausted", "Failed, no attempts left"
    STOPPED = "stopped", "Stopped: endpoint disabled"


class DeliveryKind(models.TextChoices):
    ORIGINAL = "original", "Original"
    REPLAY = "replay", "Replay"


class DeliveryQuerySet(models.QuerySet):
    def for_endpoint(self, endpoint) -> "DeliveryQuerySet":
        """Deliveries to one endpoint."""
        return self.filter(endpoint=endpoint)

    def due(self, now) -> "DeliveryQuerySet":
        """Pending deliveries whose next attempt time has come, to enabled endpoints."""
        return self.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now,
                           endpoint__enabled=True)


class Delivery(models.Model):
    """One event on its way to one endpoint; every try is an Attempt."""

    event = models.ForeignKey("outbox.Event", on_delete=models.CASCADE,
                              related_name="deliveries")
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    kind = models.CharField(max_length=16, choices=DeliveryKind.choices,
                            default=DeliveryKind.ORIGINAL)
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.PENDING)
    attempt_count = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Set while an attempt is in flight: counts against the endpoint's in-flight cap,
    # and an expired lease means the attempt's worker stopped without an outcome.
    leased_until = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["-created_at", "-id"]
        constraints = [
            # Dispatching an event twice creates no second original delivery.
            models.UniqueConstraint(fields=["event", "endpoint"],
                                    condition=Q(kind="original"),
                                    name="webhook_delivery_original_once"),
        ]
        indexes = [
            models.Index(fields=["endpoint", "-created_at"]),
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"),
                         name="webhook_delivery_due"),
            models.Index(fields=["endpoint", "leased_until"],
                         condition=Q(status="pending", leased_until__isnull=False),
                         name="webhook_delivery_in_flight"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.endpoint_id} ({self.status})"


class Attempt(models.Model):
    """One HTTP POST of a delivery, successful or not."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    attempted_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    # What was sent besides the event's body: webhook-id, timestamp, signatures (never
    # the secret), user agent.
    request_headers = models.JSONField(default=dict, blank=True)
    response_excerpt = models.TextField(blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"],
                                    name="webhook_attempt_once_per_number"),
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of delivery {self.delivery_id}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
