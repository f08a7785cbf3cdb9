"""The 10-second promise, through a real Celery worker and the real Redis broker."""

import time

import pytest
from django.urls import reverse

from accounts.tests.test_worker import real_worker  # noqa: F401  (the fixture)
from portal.celery import app as celery_app
from usage import services
from usage.tests.factories import make_key
from usage.tests.test_page import summary

BEAT = celery_app.conf.beat_schedule["usage-roll-up"]


def test_beat_rolls_usage_up_every_five_seconds_and_drops_stale_runs():
    assert BEAT["task"] in celery_app.tasks
    assert BEAT["schedule"] <= 5
    assert BEAT["options"]["expires"] <= BEAT["schedule"]
    assert celery_app.conf.beat_schedule["usage-purge-raw"]["task"] in celery_app.tasks


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_new_call_shows_on_the_usage_page_within_ten_seconds(
        real_worker, client, owner, workspace):  # noqa: F811
    client.force_login(owner)
    page = reverse("usage", args=[workspace.organization.slug, workspace.slug])
    services.record_call(api_key=make_key(workspace), endpoint="/v1/ping", method="GET",
                         status=200, latency_ms=4, request_id="req_fresh")

    # What beat sends at its next tick, at most BEAT["schedule"] seconds from now.
    started = time.monotonic()
    celery_app.send_task(BEAT["task"], **BEAT["options"])
    shown = None
    while time.monotonic() - started < 10 - BEAT["schedule"]:
        if 'data-testid="usage-summary"' in client.get(page).content.decode():
            shown = time.monotonic() - started
            break
        time.sleep(0.1)

    assert shown is not None, "the call was not on the page within 10 seconds"
    assert summary(client.get(page))["Requests"] == "1"
