"""Probes for load balancers and orchestrators: /healthz (alive) and /readyz (can serve).

Both are public (no session, no CSP, never cached) and cheap. /healthz touches nothing:
a process that answers it is up, and restarting it would not help. /readyz answers 200
only when PostgreSQL and Redis answer within short timeouts and every migration on disk
is applied; otherwise 503 with one line per failed check, so the operator reading the
probe's output sees what is wrong. Each check opens its own short-lived connection: a
probe must not wait behind a request's connection or poison it with a timeout.
"""

import json
import logging
import time
from functools import cache

import psycopg
import redis
from csp.decorators import csp_exempt
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from redis.backoff import NoBackoff
from redis.retry import Retry

from portal.devservices import redact

TIMEOUT_SECONDS = 1.0
log = logging.getLogger(__name__)


def _answer(status: int, body: dict) -> HttpResponse:
    return HttpResponse(json.dumps(body, indent=1) + "\n", status=status,
                        content_type="application/json")


def probe(view):
    """Public, never cached, outside the pages' CSP, GET only."""
    return login_not_required(csp_exempt()(never_cache(require_GET(view))))


@probe
def healthz(request):
    return _answer(200, {"status": "alive"})


@cache
def _migrations_on_disk() -> frozenset[tuple[str, str]]:
    """The leaf migration of every app, read from disk once per process."""
    return frozenset(MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes())


def check_database() -> str | None:
    """None when PostgreSQL answers and every migration is applied, else what is wrong."""
    params = {name: value for name, value in connection.get_connection_params().items()
              if name not in ("cursor_factory", "context")}
    try:
        with psycopg.connect(**params, connect_timeout=max(1, int(TIMEOUT_SECONDS)),
                             autocommit=True) as conn:
            conn.execute("SELECT set_config('statement_timeout', %s, false)",
                         [f"{int(TIMEOUT_SECONDS * 1000)}ms"])
            applied = set(conn.execute("SELECT app, name FROM django_migrations"))
    except psycopg.Error as error:
        return f"database unreachable: {error.__class__.__name__}: {str(error).strip()}"
    missing = sorted(_migrations_on_disk() - applied)
    if missing:
        names = ", ".join(f"{app}.{name}" for app, name in missing[:5])
        return f"migrations not applied: {names}{' ...' if len(missing) > 5 else ''}"
    return None


def redis_urls() -> list[str]:
    """The Redis servers this process needs: the broker and the cache."""
    urls = [settings.CELERY_BROKER_URL, settings.CACHES["default"]["LOCATION"]]
    return list(dict.fromkeys(url for url in urls if url.startswith(("redis://", "rediss://"))))


def check_redis(url: str) -> str | None:
    """None when the Redis server at url answers PING within the timeout."""
    client = redis.Redis.from_url(url, socket_connect_timeout=TIMEOUT_SECONDS,
                                  socket_timeout=TIMEOUT_SECONDS, retry=Retry(NoBackoff(), 0))
    try:
        client.ping()
    except (redis.RedisError, OSError) as error:
        return f"redis unreachable at {redact(url)}: {error}"
    finally:
        client.close()
    return None


@probe
def readyz(request):
    began = time.monotonic()
    problems = [problem for problem in (check_database(), *map(check_redis, redis_urls()))
                if problem]
    took_ms = round((time.monotonic() - began) * 1000, 1)
    if problems:
        log.warning("not ready: %s", "; ".join(problems))
        return _answer(503, {"status": "not ready", "problems": problems, "took_ms": took_ms})
    return _answer(200, {"status": "ready", "took_ms": took_ms})
