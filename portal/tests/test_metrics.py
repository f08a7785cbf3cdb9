"""/metrics: what a Prometheus scraper holding METRICS_TOKEN reads."""

from datetime import timedelta

import pytest
import redis
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from keys.tests.factories import approve_sandbox, issue
from outbox.services import emit
from usage.models import CallRecord
from usage.services import record_call
from webhooks import delivery
from webhooks.models import Event
from webhooks.tests.factories import add_endpoint, receiver

TOKEN = "scrape-token-for-tests"


@pytest.fixture
def scrape(client, settings):
    settings.METRICS_TOKEN = TOKEN

    def read() -> dict[tuple[str, frozenset], float]:
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert response.status_code == 200, response.content
        assert "Content-Security-Policy" not in response
        return {(sample.name, frozenset(sample.labels.items())): sample.value
                for family in text_string_to_metric_families(response.content.decode())
                for sample in family.samples}

    return read


def test_metrics_are_off_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""

    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


@pytest.mark.django_db
def test_a_scraper_without_the_token_is_told_what_is_missing(client, settings):
    settings.METRICS_TOKEN = TOKEN

    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer not-the-token")

    assert response.status_code == 401
    assert response.content == b"A Bearer token (METRICS_TOKEN) is required.\n"
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"portal_request" not in response.content


@pytest.mark.django_db
def test_request_latency_is_counted_by_view_and_status(client, scrape):
    key = ("portal_request_duration_seconds_count",
           frozenset({"view": "healthz", "method": "GET", "status": "200"}.items()))
    before = scrape().get(key, 0)

    client.get("/healthz")
    client.get("/healthz")
    client.get("/no-such-page/")

    after = scrape()
    assert after[key] == before + 2
    assert ("portal_request_duration_seconds_count",
            frozenset({"view": "unmatched", "method": "GET", "status": "404"}.items())) in after


@pytest.mark.django_db
def test_the_age_of_the_oldest_undispatched_outbox_event(workspace, scrape):
    assert scrape()[("portal_webhook_outbox_oldest_undispatched_seconds", frozenset())] == 0

    event = emit(workspace=workspace, environment="sandbox", type="key.created", data={})
    Event.objects.filter(pk=event.pk).update(created_at=timezone.now() - timedelta(minutes=5))

    age = scrape()[("portal_webhook_outbox_oldest_undispatched_seconds", frozenset())]
    assert 300 <= age < 330


@pytest.mark.django_db
def test_webhook_attempts_are_counted_by_outcome(workspace, owner, settings, scrape):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    approve_sandbox(workspace)
    succeeded = ("portal_webhook_attempts_total", frozenset({"outcome": "succeeded"}.items()))
    failed = ("portal_webhook_attempts_total", frozenset({"outcome": "failed"}.items()))
    before = scrape()
    with receiver() as hook:
        hook.replies = [(500, {}, "down")]
        add_endpoint(workspace, owner, hook.url)
        for _ in range(2):
            event = emit(workspace=workspace, environment="sandbox", type="key.revoked",
                         data={})
            (delivery_id,) = delivery.dispatch(event.pk)
            delivery.attempt(delivery_id)

    after = scrape()
    assert after[succeeded] - before.get(succeeded, 0) == 1
    assert after[failed] - before.get(failed, 0) == 1
    due = after[("portal_webhook_oldest_due_delivery_seconds", frozenset())]
    assert due == 0  # the failed one is due again only later


@pytest.mark.django_db
def test_rollup_lag_is_the_age_of_the_oldest_call_not_rolled_up(workspace, owner, scrape):
    api_key, _ = issue(approve_sandbox(workspace), owner)
    record_call(api_key=api_key, endpoint="/v1/ping", method="GET", status=200,
                latency_ms=3, request_id="req_lag")
    CallRecord.objects.update(received_at=timezone.now() - timedelta(seconds=90))

    lag = scrape()[("portal_usage_rollup_lag_seconds", frozenset())]

    assert 90 <= lag < 120


@pytest.mark.django_db
def test_celery_queue_lengths_are_read_from_the_broker(scrape, settings):
    # given a broker database of this test's own (the cache's, per xdist worker)
    settings.CELERY_BROKER_URL = settings.CACHES["default"]["LOCATION"]
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete("mail", "webhooks")
    broker.rpush("mail", "a", "b", "c")
    try:
        samples = scrape()
    finally:
        broker.delete("mail")
        broker.close()

    def length(queue):
        return samples[("portal_celery_queue_length", frozenset({"queue": queue}.items()))]

    assert (length("mail"), length("webhooks"), length("usage"), length("default")) == (3, 0, 0, 0)


@pytest.mark.django_db
def test_an_unreachable_broker_shows_as_minus_one(scrape, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"

    samples = scrape()

    assert samples[("portal_celery_queue_length", frozenset({"queue": "mail"}.items()))] == -1
