"""Several processes, one database: two gunicorn servers, two Celery workers, one beat.

The deployment of the Procfile in miniature, against this run's PostgreSQL and Redis:
servers A and B (`gunicorn portal.wsgi`, 2 workers each, each worker with its own key
cache and listener), two Celery workers (2 processes each, every queue) and one beat.

1. A key that B's workers have been answering from their caches is revoked through A's
   revoke page (a signed-in Owner, recently authenticated); the requests to B right
   after A answered must all be refused. Target: every one refused.
2. A usage report is sent to A's `/api/v1/usage`; B's usage page is read until it shows
   the reported endpoint (the beat's rollup, run by a worker). Target: within 10 s.
3. 1,000 webhook events are committed at once; both workers deliver them to a receiver
   on 127.0.0.1, which counts POSTs per `webhook-id`. After the last one arrives the run
   waits for one more outbox sweep (beat, every 15 s) to catch any duplicate. Target:
   every event delivered exactly once (and one attempt row each).
4. B's `/metrics` counts the verify requests of both its workers (Prometheus
   multiprocess directory). Target: all of them.

About 90 s: most of it is the webhook deliveries (~20/s per worker process here).
"""

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from bench import harness
from portal.devservices import stop_groups

ROOT = Path(__file__).resolve().parent.parent
N_EVENTS = 1000
EVENTS_DEADLINE = 300.0  # seconds for both workers to deliver every event
USAGE_TARGET = 10.0  # seconds from A's answer to B's usage page showing the report
SWEEP_WAIT = 17.0  # one outbox sweep (every 15 s) after the last delivery
GATEWAY_TOKEN = "prod-like-gateway-token"
METRICS_TOKEN = "prod-like-metrics-token"
PASSWORD = "prod-like-password-1"


# --- Processes ------------------------------------------------------------------------

class Process:
    """A Celery worker or beat in its own process group, logging to a file."""

    def __init__(self, name: str, args: list[str], env: dict[str, str]) -> None:
        handle, log = tempfile.mkstemp(prefix=f"prod-like-{name}-", suffix=".log")
        os.close(handle)
        self.name, self.log = name, Path(log)
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "celery", "-A", "portal", *args],
                                         cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=subprocess.STDOUT,
                                         process_group=0)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.text().splitlines()[-lines:])


@contextmanager
def workers_and_beat(env: dict[str, str], queues: str):
    beat_dir = tempfile.mkdtemp(prefix="prod-like-beat-")
    common = ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    procs = [Process(f"worker{i}", ["worker", "-Q", queues, "-n", f"prod-like-{i}@%h",
                                    "--concurrency", "2", "-l", "info", *common], env)
             for i in (1, 2)]
    procs.append(Process("beat", ["beat", "-l", "warning", "--schedule",
                                  str(Path(beat_dir) / "schedule")], env))
    ok = False
    try:
        yield procs
        ok = True
    finally:
        stop_groups([p.proc for p in procs])
        shutil.rmtree(beat_dir, ignore_errors=True)
        for proc in procs:
            if not ok:
                print(f"--- {proc.name} log ({proc.log}):\n{proc.tail()}")
            else:
                proc.log.unlink(missing_ok=True)


# --- A loopback webhook receiver counting POSTs per webhook-id -------------------------

class Receiver:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_id: Counter[str] = Counter()
        self.port = 0

    def distinct(self) -> int:
        with self.lock:
            return len(self.by_id)


@contextmanager
def receiver():
    import http.server

    state = Receiver()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with state.lock:
                state.by_id[self.headers.get("webhook-id", "")] += 1
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


# --- HTTP helpers -----------------------------------------------------------------------

def form_post(server: harness.Server, path: str, headers: dict[str, str],
              **fields: str) -> tuple[int, bytes]:
    body = urlencode({**fields, "csrfmiddlewaretoken": headers["X-CSRFToken"]}).encode()
    return harness.fetch(server, harness.Request(
        path, method="POST", body=body,
        headers={**headers, "Content-Type": "application/x-www-form-urlencoded"}))


def reauthenticated_headers(server: harness.Server, user) -> dict[str, str]:
    """A session signed in as user that has just confirmed its password on `server`'s
    own reauthentication page (revoking asks for it), and a CSRF secret to repeat."""
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    csrf = secrets.token_hex(16)  # 32 characters: Django's unmasked secret
    session = harness.signed_in_client(user).cookies[settings.SESSION_COOKIE_NAME].value
    headers = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session}; csrftoken={csrf}",
               "X-CSRFToken": csrf}
    status, body = form_post(server, reverse("account_reauthenticate"), headers,
                             password=PASSWORD)
    if status != 302:
        raise harness.BenchError(f"reauthentication answered {status}: {body[:300]!r}")
    return headers


def verify_request(secret: str) -> harness.Request:
    return harness.Request("/api/v1/keys/verify", method="POST",
                           body=json.dumps({"key": secret, "environment": "sandbox"}).encode(),
                           headers={"Authorization": f"Bearer {GATEWAY_TOKEN}",
                                    "Content-Type": "application/json"})


def verify_code(server: harness.Server, secret: str) -> str:
    status, body = harness.fetch(server, verify_request(secret))
    return json.loads(body)["code"] if status in (200, 401, 403) else f"HTTP {status}"


def scrape(server: harness.Server) -> dict[tuple[str, frozenset], float]:
    from prometheus_client.parser import text_string_to_metric_families

    status, body = harness.fetch(server, harness.Request(
        "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}))
    if status != 200:
        raise harness.BenchError(f"/metrics answered {status}")
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(body.decode()) for s in family.samples}


def sample(samples, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


# --- The checks ---------------------------------------------------------------------------

def revocation(a: harness.Server, b: harness.Server, tenant) -> list[harness.Result]:
    from keys.services import issue_key

    key, secret = issue_key(actor=tenant.user, workspace=tenant.workspace,
                            environment="sandbox", name="prod-like", scopes=["accounts:read"])
    warm = [verify_code(b, secret) for _ in range(20)]  # both of B's workers cache it
    if set(warm) != {"VALID"}:
        raise harness.BenchError(f"B did not verify the fresh key: {Counter(warm)}")
    hits = sample(scrape(b), "portal_key_cache_lookups_total", result="hit")
    url = reverse("key_revoke", kwargs={"org_slug": tenant.organization.slug,
                                        "ws_slug": tenant.workspace.slug,
                                        "environment": "sandbox", "public_id": key.public_id})
    headers = reauthenticated_headers(a, tenant.user)
    began = time.perf_counter()
    status, body = form_post(a, url, headers)
    revoke_seconds = time.perf_counter() - began
    if status != 302:
        raise harness.BenchError(f"A's revoke page answered {status}: {body[:300]!r}")
    after = [verify_code(b, secret) for _ in range(10)]
    refused = after.count("REVOKED")
    return [
        harness.Measure("B's key-cache hits before the revocation", hits, "hits",
                        "B answered the key from its workers' caches"),
        harness.Measure("revocation through A's page", revoke_seconds * 1000, "ms",
                        "until every listener acknowledged"),
        harness.Ratio("key revoked through A: B's next requests refused",
                      harness.Measure("requests to B right after A answered", len(after),
                                      "requests"),
                      harness.Measure("refused as REVOKED", refused, "requests",
                                      f"{Counter(after)}"), target=1.0, at_least=True),
    ]


def usage(a: harness.Server, b: harness.Server, tenant) -> list[harness.Result]:
    from keys.services import issue_key

    key, _ = issue_key(actor=tenant.user, workspace=tenant.workspace, environment="sandbox",
                       name="prod-like usage", scopes=["accounts:read"])
    endpoint = f"/v1/prod-like-{uuid.uuid4().hex[:8]}"
    now = timezone.now().isoformat()
    records = [{"key_id": key.public_id, "endpoint": endpoint, "method": "GET", "status": 200,
                "latency_ms": 12, "request_id": f"req_{uuid.uuid4().hex}",
                "occurred_at": now} for _ in range(3)]
    page = harness.Request(reverse("usage", kwargs={"org_slug": tenant.organization.slug,
                                                    "ws_slug": tenant.workspace.slug}),
                           headers=harness.session_headers(tenant.user))
    status, body = harness.fetch(a, harness.Request(
        "/api/v1/usage", method="POST", body=json.dumps({"records": records}).encode(),
        headers={"Authorization": f"Bearer {GATEWAY_TOKEN}",
                 "Content-Type": "application/json"}))
    sent = time.perf_counter()
    if status != 200:
        raise harness.BenchError(f"A refused the usage report: {status} {body[:300]!r}")
    seen = None
    while time.perf_counter() - sent < USAGE_TARGET * 3:
        status, html = harness.fetch(b, page)
        if status == 200 and endpoint.encode() in html:
            seen = time.perf_counter() - sent
            break
        time.sleep(0.25)
    return [harness.Ratio(
        "usage reported to A shows on B's usage page",
        harness.Measure("target", USAGE_TARGET, "s"),
        harness.Measure("shown after", seen if seen is not None else float("inf"), "s",
                        "never, in 30 s" if seen is None else ""), target=1.0)]


def webhooks(hook: Receiver, tenant, procs) -> list[harness.Result]:
    from django.db import transaction

    from outbox.services import emit
    from webhooks import services
    from webhooks.models import Attempt, Delivery, DeliveryStatus

    endpoint = services.create_endpoint(
        actor=tenant.user, workspace=tenant.workspace, environment="sandbox",
        url=f"http://127.0.0.1:{hook.port}/hooks", event_types=["webhook.test"])
    began = time.perf_counter()
    with transaction.atomic():
        for i in range(N_EVENTS):
            emit(workspace=tenant.workspace, environment="sandbox", type="webhook.test",
                 endpoint=endpoint, data={"message": f"prod-like {i}"})
    while hook.distinct() < N_EVENTS and time.perf_counter() - began < EVENTS_DEADLINE:
        time.sleep(0.1)
    delivered = time.perf_counter() - began
    harness.say(f"{hook.distinct()} of {N_EVENTS} events arrived in {delivered:.1f} s; "
                f"waiting {SWEEP_WAIT:g} s for one more sweep")
    time.sleep(SWEEP_WAIT)
    with hook.lock:
        once = sum(1 for count in hook.by_id.values() if count == 1)
        posts = sum(hook.by_id.values())
    attempts = Attempt.objects.filter(delivery__endpoint=endpoint).count()
    succeeded = Delivery.objects.filter(endpoint=endpoint,
                                        status=DeliveryStatus.SUCCEEDED).count()
    ran = [proc.text().count("succeeded in") for proc in procs if proc.name.startswith("worker")]
    return [
        harness.Measure("webhook deliveries", N_EVENTS / delivered, "events/s",
                        f"{hook.distinct()} in {delivered:.1f} s; tasks run per worker: {ran}"),
        harness.Ratio("1,000 webhook events delivered exactly once across two workers",
                      harness.Measure("events", N_EVENTS, "events"),
                      harness.Measure("received exactly once", once, "events",
                                      f"{posts} POSTs, {attempts} attempt rows, "
                                      f"{succeeded} deliveries succeeded"),
                      target=1.0, at_least=True),
        harness.Ratio("one attempt row per event",
                      harness.Measure("events", N_EVENTS, "events"),
                      harness.Measure("attempt rows", attempts if attempts <= N_EVENTS else 0,
                                      "rows", f"{attempts} rows"), target=1.0, at_least=True),
    ]


def verify_requests(server: harness.Server) -> float:
    """Verify requests the server's /metrics counted, whatever their status."""
    return sum(value for (name, labels), value in scrape(server).items()
               if name == "portal_request_duration_seconds_count"
               and ("view", "gateway_verify") in labels)


def metrics_count(b: harness.Server, secret_requests: int, before: float) -> harness.Result:
    counted = verify_requests(b) - before
    return harness.Ratio("B's /metrics counts the requests of both its workers",
                         harness.Measure("verify requests sent to B", secret_requests,
                                         "requests"),
                         harness.Measure("counted", counted, "requests"), target=1.0,
                         at_least=True)


def run() -> list[harness.Result]:
    from portal.celery import app, queue_names

    # Queues of this run's own on the shared Redis: no other worker takes its tasks.
    prefix = f"prod-like-{uuid.uuid4().hex[:8]}-"
    env = {**os.environ, "CELERY_QUEUE_PREFIX": prefix, "GATEWAY_SERVICE_TOKEN": GATEWAY_TOKEN,
           "METRICS_TOKEN": METRICS_TOKEN, "WEBHOOKS_ALLOW_LOOPBACK": "1",
           "CELERY_TASK_ALWAYS_EAGER": "0", "PYTHONUNBUFFERED": "1", "KEY_CACHE": "1"}
    tenant = harness.make_tenant("owner")
    tenant.workspace.sandbox_approved_at = timezone.now()
    tenant.workspace.save(update_fields=["sandbox_approved_at"])
    results: list[harness.Result] = []
    saved = app.conf.task_always_eager, app.conf.get("queue_prefix", "")
    app.conf.task_always_eager, app.conf.queue_prefix = False, prefix
    try:
        with ExitStack() as stack, override_settings(WEBHOOKS_ALLOW_LOOPBACK=True):
            hook = stack.enter_context(receiver())
            servers = []
            for name in ("A", "B"):
                metrics_dir = stack.enter_context(tempfile.TemporaryDirectory(
                    prefix=f"prod-like-metrics-{name}-"))
                servers.append(stack.enter_context(harness.serve(
                    workers=2, ready_path="/readyz",
                    env={**env, "PROMETHEUS_MULTIPROC_DIR": metrics_dir})))
            a, b = servers
            procs = stack.enter_context(workers_and_beat(env, ",".join(queue_names())))
            harness.say(f"A on :{a.port}, B on :{b.port}, 2 workers and a beat")
            before = verify_requests(b)
            results += revocation(a, b, tenant)
            results.append(metrics_count(b, 30, before))
            results += usage(a, b, tenant)
            results += webhooks(hook, tenant, procs)
    finally:
        app.conf.task_always_eager, app.conf.queue_prefix = saved
    return results
