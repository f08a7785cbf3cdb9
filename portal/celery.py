"""The Celery app, and which queue each task goes to.

Four queues, so that one kind of work cannot hold up another: `mail` (emails),
`webhooks` (fan-out, delivery, sweep), `usage` (rollups and purges) and `default`
(everything else). `make run` starts a worker per kind (portal/devservices.py); the
README's deployment section lists them.
"""

import os

from celery import Celery

import portal.logs  # noqa: F401  (puts the request-id filter and LOG_FORMAT on Celery's logs)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

QUEUES = ("mail", "webhooks", "usage", "default")
_QUEUE_OF_APP = {"accounts": "mail", "webhooks": "webhooks", "usage": "usage"}

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")


def queue_for(task_name: str) -> str:
    """The queue of a task, by the app that defines it (without the prefix)."""
    return _QUEUE_OF_APP.get(task_name.split(".", 1)[0], "default")


def queue_names() -> list[str]:
    """Every queue's name as the broker sees it (with settings.CELERY_QUEUE_PREFIX)."""
    return [app.conf.get("queue_prefix", "") + queue for queue in QUEUES]


def route(name, args, kwargs, options, task=None, **kw):
    # Read at every publish: tests and benchmarks give their workers queues of their own.
    return {"queue": app.conf.get("queue_prefix", "") + queue_for(name)}


app.conf.task_routes = (route,)
app.autodiscover_tasks()
