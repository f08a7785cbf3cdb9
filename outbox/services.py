"""Writing events, and waking the task that dispatches them once the write commits.

An event is recorded in the caller's transaction. After commit, one dispatch task is
queued (by name: the task lives in webhooks, above this app); if the broker is down at
that moment, the periodic sweep finds the undispatched row later, so nothing is lost.
"""

import logging
import time

from celery import current_app
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from outbox import catalog
from outbox.models import Event

log = logging.getLogger(__name__)

DISPATCH = "webhooks.tasks.dispatch"
# Set while a dispatch task is queued and has not started: work committed meanwhile is
# picked up by that task, so a transaction of 300 events queues one task, not 300.
QUEUED = "webhooks:pump-queued"  # per queue prefix: see _queued_key
QUEUED_TTL = 30
# After a failed publish, later publishes of this process skip the broker for this
# long: the sweep picks their work up once it is back.
BROKER_BACKOFF = 2.0
_broker_down_until = 0.0


def _task(name: str):
    if name not in current_app.tasks:
        current_app.loader.import_default_modules()  # every app's tasks.py, as a worker
    return current_app.tasks[name]


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


def _queued_key() -> str:
    # Workers on their own queues (a test's, a benchmark's) share the Redis: a mark left by
    # one set of queues must not hold back another's first task.
    return current_app.conf.get("queue_prefix", "") + QUEUED


def notify(task_name: str = DISPATCH, *args) -> None:
    """Queue `task_name` unless a dispatch task is already queued and not yet started."""
    if cache.add(_queued_key(), 1, QUEUED_TTL) and not enqueue(_task(task_name), *args):
        cache.delete(_queued_key())


def started() -> None:
    """Called by the dispatch task as it starts: from here on, new work needs a new task."""
    cache.delete(_queued_key())


def emit(*, workspace, environment: str, type: str, data: dict, endpoint=None) -> Event:
    """Record an event in the caller's transaction and dispatch it after commit."""
    if not catalog.is_known(type):
        raise ValueError(f"{type!r} is not in the webhook event catalogue")
    event = Event.objects.create(workspace=workspace, environment=environment, type=type,
                                 data=data, endpoint=endpoint, created_at=timezone.now())
    _dispatch_after_commit(event.pk)
    return event


class _Dispatch:
    """The after-commit callback queueing the dispatch task, which fans out every event
    committed by then: one per transaction, however many events it writes (a
    transaction of 600 events made 600 calls to Redis after its commit)."""

    def __init__(self, event_id: int) -> None:
        self.event_id = event_id
        self.ran = False

    def __call__(self) -> None:
        self.ran = True
        notify(DISPATCH, self.event_id)


def _dispatch_after_commit(event_id: int) -> None:
    # A callback registered in a savepoint that rolls back leaves the list with it, so
    # the next event registers its own.
    waiting = connection.in_atomic_block and any(
        isinstance(callback, _Dispatch) and not callback.ran
        for _, callback, _ in connection.run_on_commit)
    if not waiting:
        transaction.on_commit(_Dispatch(event_id))
