"""The outbox: events are rows written in the transaction of the change they report.

A dispatch task is queued once that transaction commits; if the broker is down at that
moment, the periodic sweep finds the undispatched row later, so nothing is lost.
"""

from django.db import transaction
from django.utils import timezone

from webhooks import catalog
from webhooks.models import Endpoint, Event
from webhooks.tasks import dispatch, enqueue_pump


def emit(*, workspace, environment: str, type: str, data: dict,
         endpoint: Endpoint | None = None) -> Event:
    """Record an event in the caller's transaction and dispatch it after commit."""
    if not catalog.is_known(type):
        raise ValueError(f"{type!r} is not in the webhook event catalogue")
    event = Event.objects.create(workspace=workspace, environment=environment, type=type,
                                 data=data, endpoint=endpoint, created_at=timezone.now())
    transaction.on_commit(lambda: enqueue_pump(dispatch, event.pk))
    return event
