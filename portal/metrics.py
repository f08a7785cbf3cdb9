"""Prometheus metrics at /metrics, for a scraper that presents METRICS_TOKEN.

Two kinds:

- Counted where it happens, in every process: request latency by view, method and
  status (RequestMetricsMiddleware), key-cache lookups (keys/cache.py), webhook
  attempts by outcome (webhooks/delivery.py). Under gunicorn each worker counts
  separately; with PROMETHEUS_MULTIPROC_DIR set (gunicorn.conf.py sets it) they write
  to files there and a scrape adds up every process on the host, Celery workers started
  with the same directory included.
- Read at scrape time from PostgreSQL and Redis, so every process reports the same
  truth: the age of the oldest undispatched outbox event and of the most overdue
  webhook delivery, how far the usage rollup lags behind the calls received, and the
  length of each Celery queue. Each is one indexed query or one LLEN.

Without METRICS_TOKEN the path answers 404: metrics are off.
"""

import hmac
import os
import time

import redis
from csp.decorators import csp_exempt
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db.models import Min
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from redis.backoff import NoBackoff
from redis.retry import Retry

from portal.celery import queue_names
from usage.models import CallRecord, RollupWatermark
from usage.services import WATERMARK
from webhooks.models import Delivery, DeliveryStatus, Event

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUEST_SECONDS = Histogram(
    "portal_request_duration_seconds", "Time to answer a request, by view and status.",
    ["view", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))


class RequestMetricsMiddleware:
    """Times every request; labels by the resolved view name, never by path (the path
    holds slugs and ids: one series per workspace would swamp the scraper)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        began = time.perf_counter()
        response = self.get_response(request)
        match = request.resolver_match
        REQUEST_SECONDS.labels(
            match.view_name if match else "unmatched",
            request.method if request.method in METHODS else "other",
            str(response.status_code),
        ).observe(time.perf_counter() - began)
        return response


def _age(since) -> float:
    return max((timezone.now() - since).total_seconds(), 0.0) if since else 0.0


class StateCollector:
    """Gauges read from the database and Redis at each scrape."""

    def collect(self):
        oldest = Event.objects.filter(dispatched_at__isnull=True).aggregate(
            at=Min("created_at"))["at"]
        yield GaugeMetricFamily(
            "portal_webhook_outbox_oldest_undispatched_seconds",
            "Age of the oldest outbox event not yet fanned out to its deliveries.",
            value=_age(oldest))
        overdue = Delivery.objects.filter(status=DeliveryStatus.PENDING).aggregate(
            at=Min("next_attempt_at"))["at"]
        yield GaugeMetricFamily(
            "portal_webhook_oldest_due_delivery_seconds",
            "How long the most overdue pending webhook delivery has been due.",
            value=_age(overdue))
        watermark = RollupWatermark.objects.filter(name=WATERMARK).values_list(
            "received_before", flat=True).first()
        waiting = CallRecord.objects.all()
        if watermark is not None:
            waiting = waiting.filter(received_at__gte=watermark)
        yield GaugeMetricFamily(
            "portal_usage_rollup_lag_seconds",
            "Age of the oldest call received and not yet in the usage rollups.",
            value=_age(waiting.aggregate(at=Min("received_at"))["at"]))
        yield self._queue_lengths()

    def _queue_lengths(self) -> GaugeMetricFamily:
        family = GaugeMetricFamily("portal_celery_queue_length",
                                   "Tasks waiting in each Celery queue (-1: broker "
                                   "unreachable).", labels=["queue"])
        names = queue_names()
        client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=0.5,
                                      socket_timeout=0.5, retry=Retry(NoBackoff(), 0))
        try:
            with client.pipeline(transaction=False) as pipe:
                for name in names:
                    pipe.llen(name)
                lengths = pipe.execute()
        except (redis.RedisError, OSError):
            lengths = [-1] * len(names)
        finally:
            client.close()
        for name, length in zip(names, lengths, strict=True):
            family.add_metric([name], length)
        return family


_state = CollectorRegistry(auto_describe=False)
_state.register(StateCollector())


def render() -> bytes:
    """The text exposition of every metric: this host's processes', then the state's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry()
        multiprocess.MultiProcessCollector(processes)
    else:
        processes = REGISTRY
    return generate_latest(processes) + generate_latest(_state)


@login_not_required
@csp_exempt()
@never_cache
@require_GET
def metrics(request):
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404("metrics are off: set METRICS_TOKEN")
    presented = request.headers.get("Authorization", "").removeprefix("Bearer ")
    if not hmac.compare_digest(presented.encode(), token.encode()):
        response = HttpResponse("A Bearer token (METRICS_TOKEN) is required.\n", status=401,
                                content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(render(), content_type=CONTENT_TYPE_LATEST)
