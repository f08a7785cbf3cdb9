"""End to end through real Celery workers and the real Redis broker."""

import os
import subprocess
import sys
import time
import uuid
from urllib.parse import quote

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.core.mail import send_mail
from django.db import connection, transaction
from standardwebhooks import Webhook

from accounts.tests.test_worker import real_worker  # noqa: F401  (the fixture)
from keys.tests.factories import issue
from outbox.services import emit
from portal.celery import app as celery_app
from webhooks import services
from webhooks.models import Attempt, Delivery
from webhooks.tests.factories import add_endpoint, approve_sandbox, receiver
from webhooks.tests.test_client import raw_receiver, trickle


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_committed_event_is_delivered_by_a_real_worker(real_worker, workspace,  # noqa: F811
                                                        owner, settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    approve_sandbox(workspace)
    with receiver() as hook:
        endpoint = add_endpoint(workspace, owner, hook.url)
        with transaction.atomic():
            key, _ = issue(workspace, owner)

        deadline = time.monotonic() + 20
        while not Attempt.objects.exists() and time.monotonic() < deadline:
            time.sleep(0.05)

    (headers, body), = hook.received
    secret = services.reveal_secret(actor=owner, workspace=workspace, environment="sandbox",
                                    public_id=endpoint.public_id)
    assert Webhook(secret).verify(body, headers)["data"]["key_id"] == key.public_id
    assert Attempt.objects.get().status_code == 200


@pytest.fixture
def worker_per_kind(settings, tmp_path):
    """As deployed (portal/celery.py): a webhooks worker (its own process) and a mail
    worker (in this process, so its mail lands in mail.outbox), on queues of their own."""
    prefix = f"test-{uuid.uuid4().hex}-"
    database = connection.settings_dict
    env = {**os.environ, "CELERY_QUEUE_PREFIX": prefix, "CELERY_TASK_ALWAYS_EAGER": "0",
           "WEBHOOKS_ALLOW_LOOPBACK": "1", "WEBHOOK_ATTEMPT_DEADLINE": "6",
           # this test's database; a socket directory as host is percent-encoded
           "DATABASE_URL": f"postgres://{quote(database['USER'] or '')}:"
                           f"{quote(database['PASSWORD'] or '')}@"
                           f"{quote(database['HOST'] or '', safe='')}:{database['PORT'] or 5432}/"
                           f"{database['NAME']}",
           "CACHE_REDIS_URL": settings.CACHES["default"]["LOCATION"]}
    log = (tmp_path / "webhooks-worker.log").open("wb")
    webhooks_worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "portal", "worker", "-P", "solo",
         "-Q", prefix + "webhooks", "-n", f"webhooks-{prefix}@%h", "-l", "warning",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    celery_app.conf.task_always_eager = False
    celery_app.conf.queue_prefix = prefix
    try:
        with start_worker(celery_app, pool="solo", perform_ping_check=False,
                          shutdown_timeout=10, queues=[prefix + "mail", prefix + "default"]):
            yield
    finally:
        celery_app.conf.queue_prefix = ""
        celery_app.conf.task_always_eager = True
        webhooks_worker.terminate()
        try:
            webhooks_worker.wait(20)
        except subprocess.TimeoutExpired:
            webhooks_worker.kill()
            webhooks_worker.wait(10)
        log.close()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_trickling_endpoint_holds_up_neither_other_endpoints_nor_email(
        worker_per_kind, workspace, owner, settings):
    # given an attempt deadline of 6 s (the worker's) and a receiver that trickles its
    # answer past it
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    approve_sandbox(workspace)
    with raw_receiver(trickle) as slow_url, receiver() as healthy:
        slow = add_endpoint(workspace, owner, slow_url, event_types=["key.revoked"])
        add_endpoint(workspace, owner, healthy.url, event_types=["key.created"])
        # when 20 events go to the trickling endpoint, then one to the healthy one,
        for _ in range(20):
            with transaction.atomic():
                emit(workspace=workspace, environment="sandbox", type="key.revoked", data={})
        with transaction.atomic():
            emit(workspace=workspace, environment="sandbox", type="key.created", data={})
        # and a verification email is sent meanwhile
        with transaction.atomic():
            send_mail("Verify your email", "Click", None, ["new@example.com"])

        deadline = time.monotonic() + 30
        while (not healthy.received or not mail.outbox) and time.monotonic() < deadline:
            time.sleep(0.05)
        in_flight = Delivery.objects.filter(endpoint=slow, leased_until__isnull=False).count()
        slow_attempts = Attempt.objects.filter(delivery__endpoint=slow).count()

    # then the healthy endpoint got its event and the email went out while every attempt
    # to the trickling endpoint was still waiting out its deadline,
    assert len(healthy.received) == 1
    assert [m.subject for m in mail.outbox] == ["Verify your email"]
    assert slow_attempts == 0
    # which held no more than its endpoint's small cap; the other 16 wait in the database
    assert 1 <= in_flight <= settings.WEBHOOK_MAX_IN_FLIGHT_PER_SLOW_ENDPOINT == 4
