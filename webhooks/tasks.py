"""Celery tasks: they call the delivery engine and are safe to run twice.

Every task runs the same pump (webhooks/pump.py): fan out waiting events, make every due
attempt, settle. Ids passed in are hints of what is waiting, not a to-do list, so a
duplicated or redelivered task finds the work done and returns. Retries of failed HTTP
posts are scheduled in the database (`next_attempt_at`) and picked up by the sweep,
never held as Celery countdowns.
"""

import logging
import time
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from webhooks import delivery, notices, pump

log = logging.getLogger(__name__)

# Set while a pump task is queued and has not started: work committed meanwhile is
# picked up by that task, so a transaction of 300 events queues one task, not 300.
PUMP_QUEUED = "webhooks:pump-queued"
PUMP_QUEUED_TTL = 30
# After a failed publish, later publishes of this process skip the broker for this
# long: the sweep picks their work up once it is back.
BROKER_BACKOFF = 2.0
_broker_down_until = 0.0
LIMITS = {"soft_time_limit": 90, "time_limit": 120}


def enqueue(task, *args) -> bool:
    """Queue a task; a broker outage is logged, not raised (the sweep retries later), and
    stops further publishes for a moment. Returns whether it was queued."""
    global _broker_down_until
    if time.monotonic() < _broker_down_until:
        return False
    try:
        # No publish retries: they would hold the request that committed the event for
        # seconds while Redis is down, and the sweep delivers it anyway.
        task.apply_async(args, retry=False)
        return True
    except Exception as error:  # kombu raises many types for an unreachable broker
        _broker_down_until = time.monotonic() + BROKER_BACKOFF
        log.warning("could not queue %s%r (%s); the sweep will pick it up", task.name, args,
                    error)
        return False


def enqueue_pump(task, *args) -> None:
    """Queue `task` unless a pump task is already queued and not yet started."""
    if cache.add(PUMP_QUEUED, 1, PUMP_QUEUED_TTL) and not enqueue(task, *args):
        cache.delete(PUMP_QUEUED)


def _run_pump() -> int:
    cache.delete(PUMP_QUEUED)  # from here on, newly committed work needs a new task
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
    delivery.purge_before(timezone.now() - timedelta(days=settings.WEBHOOK_RETENTION_DAYS))
