"""How long the delivery log is kept: old events, their deliveries and attempts are
deleted in bounded batches by a periodic task (WEBHOOK_RETENTION_DAYS)."""

from datetime import datetime

from django.db import transaction

from webhooks.models import Attempt, Delivery, DeliveryStatus, Event


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
