"""One end-to-end run through a real Celery worker and the real Redis broker."""

import time
import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.core.mail import send_mail
from django.db import transaction

from portal.celery import app as celery_app
from portal.celery import queue_names


@pytest.fixture
def real_worker():
    # Queues of our own, so no other worker on this Redis takes our tasks.
    celery_app.conf.task_always_eager = False
    celery_app.conf.queue_prefix = f"test-{uuid.uuid4().hex}-"
    try:
        with start_worker(celery_app, pool="solo", perform_ping_check=False,
                          shutdown_timeout=10, queues=queue_names()) as worker:
            yield worker
    finally:
        celery_app.conf.queue_prefix = ""
        celery_app.conf.task_always_eager = True


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_mail_committed_in_a_transaction_is_delivered_by_a_real_worker(real_worker):
    with transaction.atomic():
        send_mail("Through the broker", "Body", None, ["a@example.com"])

    deadline = time.monotonic() + 20
    while not mail.outbox and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [m.subject for m in mail.outbox] == ["Through the broker"]
