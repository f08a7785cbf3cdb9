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

BEAT_SCHEDULE: dict = {
    # Re-enqueues due webhook deliveries and undispatched events: a broker or worker
    # outage delays deliveries but loses none.
    # `expires` drops sweeps queued while the webhooks worker was busy or down.
    "webhooks-sweep": {"task": "webhooks.tasks.sweep", "schedule": 15.0,
                       "options": {"expires": 15.0}},
    "webhooks-check-failing": {"task": "webhooks.tasks.check_failing_endpoints",
                               "schedule": 60 * 60.0, "options": {"expires": 60 * 60.0}},
    "webhooks-purge": {"task": "webhooks.tasks.purge_old_events", "schedule": 24 * 60 * 60.0,
                       "options": {"expires": 60 * 60.0}},
    "keys-announce-expiring": {"task": "keys.tasks.announce_expiring_keys",
                               "schedule": 60 * 60.0, "options": {"expires": 60 * 60.0}},
    # Usage rollups: a new call shows on the usage page within ~10 s. Runs are
    # idempotent; `expires` drops runs queued during an outage instead of piling them up.
    "usage-roll-up": {"task": "usage.tasks.roll_up_usage", "schedule": 5.0,
                      "options": {"expires": 5.0}},
    "usage-purge-raw": {"task": "usage.tasks.purge_raw_calls", "schedule": 24 * 60 * 60.0},
    # Owners hear 14 and 3 days before a key expires; each notice is sent once.
    "keys-expiry-notices": {"task": "keys.tasks.send_expiry_notices", "schedule": 60 * 60.0,
                            "options": {"expires": 30 * 60.0}},
    # Verified domains whose TXT record disappeared go back to pending.
    # The portal submits an integration verification whose checks all pass, and withdraws
    # its submission when one stops passing (onboarding/review/services/portal.py).
    "review-sync-portal-stages": {"task": "onboarding.tasks.sync_portal_stages",
                                  "schedule": 60.0, "options": {"expires": 60.0}},
    "domains-recheck": {"task": "workspaces.tasks.recheck_domains", "schedule": 60 * 60.0,
                        "options": {"expires": 30 * 60.0}},
}
app.conf.beat_schedule = BEAT_SCHEDULE
app.autodiscover_tasks()
