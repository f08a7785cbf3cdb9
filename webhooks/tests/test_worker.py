"""One event delivered end to end through a real Celery worker and the real Redis broker."""

import time

import pytest
from django.db import transaction
from standardwebhooks import Webhook

from accounts.tests.test_worker import real_worker  # noqa: F401  (the fixture)
from keys.tests.factories import issue
from webhooks import services
from webhooks.models import Attempt
from webhooks.tests.factories import add_endpoint, approve_sandbox, receiver


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
