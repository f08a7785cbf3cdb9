"""Celery tasks: they take ids, call the delivery engine and are safe to run twice.

Retries of failed HTTP posts are scheduled in the database (`next_attempt_at`) and
picked up by the sweep, never held as Celery countdowns.
"""

from celery import shared_task

from webhooks import delivery
from webhooks.outbox import enqueue


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
