"""The outbox: events are rows written in the transaction of the change they report.

A dispatch task is queued once that transaction commits; if the broker is down at that
moment, the periodic sweep finds the undispatched row later, so nothing is lost.
"""

import logging

from django.db import transaction
from django.utils import timezone

from webhooks import catalog
from webhooks.models import Endpoint, Event

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


def emit(*, workspace, environment: str, type: str, data: dict,
         endpoint: Endpoint | None = None) -> Event:
    """Record an event in the caller's transaction and dispatch it after commit."""
    if not catalog.is_known(type):
        raise ValueError(f"{type!r} is not in the webhook event catalogue")
    event = Event.objects.create(workspace=workspace, environment=environment, type=type,
                                 data=data, endpoint=endpoint, created_at=timezone.now())
    from webhooks.tasks import dispatch

    transaction.on_commit(lambda: enqueue(dispatch, event.pk))
    return event
