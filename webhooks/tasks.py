"""Celery tasks: they call the delivery engine and are safe to run twice.

Every task runs the same pump (webhooks/pump.py): fan out waiting events, make every due
attempt, settle. Ids passed in are hints of what is waiting, not a to-do list, so a
duplicated or redelivered task finds the work done and returns. Retries of failed HTTP
posts are scheduled in the database (`next_attempt_at`) and picked up by the sweep,
never held as Celery countdowns.
"""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from outbox import services as outbox
from webhooks import notices, pump, retention

LIMITS = {"soft_time_limit": 90, "time_limit": 120}


def _run_pump() -> int:
    outbox.started()
    return pump.pump()


@shared_task(ignore_result=True, **LIMITS)
def dispatch(event_id: int) -> None:
    """Fan out the event (and any other waiting one) and deliver what is due."""
    _run_pump()


@shared_task(ignore_result=True, **LIMITS)
def deliver(*delivery_ids: int) -> None:
    """Make the due attempts of these deliveries (and of any other due one)."""
    _run_pump()


@shared_task(ignore_result=True, **LIMITS)
def sweep() -> None:
    """Beat's safety net: deliver every due delivery and every event whose dispatch never
    ran (the broker was down at commit, a worker died holding its task)."""
    _run_pump()


@shared_task(ignore_result=True, **LIMITS)
def check_failing_endpoints() -> None:
    """Hourly: warn, then disable, endpoints that keep failing, even without new events."""
    notices.check_failing_endpoints()


@shared_task(ignore_result=True, **LIMITS)
def purge_old_events() -> None:
    """Daily: delete events, deliveries and attempts older than WEBHOOK_RETENTION_DAYS."""
    retention.purge_before(timezone.now() - timedelta(days=settings.WEBHOOK_RETENTION_DAYS))
