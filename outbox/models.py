"""The outbox: an event is a row written in the transaction of the change it reports.

Below every app that causes events (workspaces, onboarding, keys) and below webhooks,
which delivers them: those apps import this one, never the other way round.
"""

import secrets

from django.db import models
from django.db.models import Q


def message_id() -> str:
    return f"msg_{secrets.token_hex(12)}"


class EventQuerySet(models.QuerySet):
    def for_scope(self, workspace, environment: str) -> "EventQuerySet":
        """Events of one workspace and environment."""
        return self.filter(workspace=workspace, environment=environment)

    def undispatched(self) -> "EventQuerySet":
        """Events not yet fanned out to deliveries (their dispatch task never ran)."""
        return self.filter(dispatched_at__isnull=True)


class Event(models.Model):
    """The outbox: written in the transaction of the change it reports."""

    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE,
                                  related_name="webhook_events")
    # "sandbox" or "production" (workspaces.models.Environment, which sits above).
    environment = models.CharField(max_length=16)
    # Sent as webhook-id on every attempt, retry and replay.
    public_id = models.CharField(max_length=40, unique=True, default=message_id)
    type = models.CharField(max_length=64)
    data = models.JSONField(default=dict)
    # A test event goes to the one endpoint it was sent from, not to every subscriber.
    endpoint = models.ForeignKey("webhooks.Endpoint", null=True, blank=True,
                                 on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(db_index=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        db_table = "webhooks_event"  # the table it had when it lived in webhooks
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["workspace", "environment", "created_at"],
                         name="webhooks_ev_workspa_760549_idx"),
            models.Index(fields=["created_at"], condition=Q(dispatched_at__isnull=True),
                         name="webhook_event_undispatched"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.public_id}"
