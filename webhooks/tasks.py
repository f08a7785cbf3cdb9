"""Celery tasks: they take ids, call the delivery engine and are safe to run twice.

Retries of failed HTTP posts are scheduled in the database (`next_attempt_at`) and
picked up by the sweep, never held as Celery countdowns.
"""

import logging

from celery import shared_task

from webhooks import delivery

log = logging.getLogger(__name__)


def enqueue(task, *args) -> None:
    """Queue a task; a broker outage is logged, not raised: the sweep retries it later."""
    try:
        # No publish retries: they would hold the request that committed the event for
        # seconds while Redis is down, and the sweep delivers it anyway.
        task.apply_async(args, retry=False)
    except Exception as error:  # kombu raises many types for an unreachable broker
        log.warning("could not queue %s%r (%s); the sweep will pick it up", task.name, args,
                    error)


@shared_task(ignore_result=True)
def dispatch(event_id: int) -> None:
    """Fan one event out to its endpoints and queue their first attempts."""
    for delivery_id in delivery.dispatch(event_id):
        enqueue(deliver, delivery_id)


@shared_task(ignore_result=True)
def deliver(delivery_id: int) -> None:
    """Make the next attempt of one delivery if it is due; otherwise do nothing."""
    delivery.attempt(delivery_id)


@shared_task(ignore_result=True)
def sweep() -> None:
    """Queue every due delivery and every event whose dispatch never ran."""
    due, undispatched = delivery.sweep()
    for event_id in undispatched:
        enqueue(dispatch, event_id)
    for delivery_id in due:
        enqueue(deliver, delivery_id)
