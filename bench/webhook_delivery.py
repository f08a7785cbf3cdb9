"""Webhook delivery throughput: one real Celery worker against a plain loop of POSTs.

N events (300) go through the outbox to a receiver on 127.0.0.1: committed, queued on
Redis, fanned out by the `dispatch` task, claimed, POSTed and settled by the `deliver`
task, all on one solo worker process (`celery worker -P solo`, a queue of its own). The
baseline is a plain loop in this process POSTing the same signed bodies of the same
events to the same receiver with the same HTTP client (`webhooks.client.post`).

Informational, no target. Expected before measuring: 0.1x to 0.3x, since the loop pays
one loopback POST on a fresh connection (~1 ms) and the worker adds, per event, two
broker round trips (dispatch, deliver), Celery's per-task overhead and three committed
transactions (fan-out, claim, settle). Measured here: about 0.01x to 0.02x (~17/s
against ~900-1,300/s). A third figure runs the same engine inline without Celery
(dispatch + attempt in this process, ~65/s): each commit costs ~5 ms on these disks,
so the engine itself is ~0.05x of the loop, and the broker and task overhead take the
worker to ~0.25x of the engine. Throughput is bounded by commits, not HTTP: more
worker processes (or batching fan-out) are the lever, not the HTTP client.

BENCH_WORKER_LOGLEVEL=INFO prints the worker's log, with each task's duration.
"""

import http.server
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from bench import harness

N_EVENTS = 300
DEADLINE = 120.0  # seconds for the worker to deliver everything
ROOT = Path(__file__).resolve().parent.parent


# --- A loopback receiver that counts deliveries and de-duplicates by webhook-id -----

class Receiver:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.posts = 0
        self.ids: set[str] = set()
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def distinct(self) -> int:
        with self.lock:
            return len(self.ids)

    def wait_for(self, count: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.distinct() < count:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True


@contextmanager
def receiver():
    state = Receiver()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with state.lock:
                state.posts += 1
                state.ids.add(self.headers.get("webhook-id", ""))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


# --- A real Celery worker in a subprocess, on a queue of its own ---------------------

class Worker:
    def __init__(self, queue: str, env: dict[str, str] | None = None) -> None:
        self.queue = queue
        self.env = env or {}
        handle, name = tempfile.mkstemp(prefix="bench-worker-", suffix=".log")
        os.close(handle)
        self.log = Path(name)
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Worker":
        env = {**os.environ, "WEBHOOKS_ALLOW_LOOPBACK": "1", "CELERY_TASK_ALWAYS_EAGER": "0",
               "PYTHONUNBUFFERED": "1", "CELERY_QUEUE_PREFIX": self.queue,
               # The cache this process uses: it marks a pump task as queued (webhooks/tasks).
               "CACHE_REDIS_URL": settings.CACHES["default"]["LOCATION"], **self.env}
        # Every queue gets our prefix (portal/celery.py), so the follow-up tasks the worker
        # queues are ours too, and no other worker on this Redis takes them.
        from portal.celery import QUEUES

        argv = ["worker", "-P", "solo", "-Q", ",".join(self.queue + q for q in QUEUES), "-n",
                f"bench-{uuid.uuid4().hex[:8]}@%h",
                f"--loglevel={os.environ.get('BENCH_WORKER_LOGLEVEL', 'WARNING')}",
                "--without-gossip", "--without-mingle", "--without-heartbeat"]
        code = "import sys; from portal.celery import app; app.worker_main(sys.argv[1:])"
        with self.log.open("ab") as log:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen([sys.executable, "-c", code, *argv],
                                         cwd=ROOT, env=env, stdout=log,
                                         stderr=subprocess.STDOUT)
        return self

    def kill(self) -> None:
        """kill -9: no warm shutdown, unacknowledged tasks stay with the broker."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def celery_queue(queue: str):
    """Route this process's tasks through the broker (not eagerly) to queues prefixed
    with `queue`."""
    from portal.celery import app

    saved = app.conf.task_always_eager, app.conf.get("queue_prefix", "")
    app.conf.task_always_eager, app.conf.queue_prefix = False, queue
    try:
        yield app
    finally:
        app.conf.task_always_eager, app.conf.queue_prefix = saved


# --- Data -----------------------------------------------------------------------------

def sandbox_endpoint(url: str):
    """A tenant whose sandbox workspace has one endpoint at url, subscribed to webhook.test."""
    from webhooks import services

    tenant = harness.make_tenant("owner")
    tenant.workspace.sandbox_approved_at = timezone.now()
    tenant.workspace.save(update_fields=["sandbox_approved_at"])
    endpoint = services.create_endpoint(actor=tenant.user, workspace=tenant.workspace,
                                        environment="sandbox", url=url,
                                        event_types=["webhook.test"])
    return tenant, endpoint


def emit_events(endpoint, count: int, *, tag: str = "bench") -> list:
    """`count` webhook.test events to the endpoint, committed in one transaction."""
    from webhooks.outbox import emit

    with transaction.atomic():
        return [emit(workspace=endpoint.workspace, environment="sandbox", type="webhook.test",
                     endpoint=endpoint, data={"message": f"{tag} {i}"})
                for i in range(count)]


def run() -> list[harness.Result]:
    from webhooks import client, delivery, pump, signing
    from webhooks.models import Delivery, DeliveryStatus, Event

    queue = f"bench-webhooks-{uuid.uuid4().hex[:8]}"
    with override_settings(WEBHOOKS_ALLOW_LOOPBACK=True), receiver() as hook, \
            celery_queue(queue):
        _, endpoint = sandbox_endpoint(hook.url)
        worker = Worker(queue).start()
        try:
            # Warm-up: the worker is up and has connected to the database and Redis.
            emit_events(endpoint, 1, tag="warm-up")
            if not hook.wait_for(1, 60):
                raise harness.BenchError("the worker delivered no warm-up event in 60 s:\n"
                                         + worker.tail())
            harness.say(f"worker ready; delivering {N_EVENTS} events")
            began = time.perf_counter()
            emit_events(endpoint, N_EVENTS)
            if not hook.wait_for(1 + N_EVENTS, DEADLINE):
                raise harness.BenchError(
                    f"the worker delivered {hook.distinct() - 1} of {N_EVENTS} events in "
                    f"{DEADLINE:g} s:\n" + worker.tail())
            through_worker = time.perf_counter() - began
        finally:
            worker.stop()
            if os.environ.get("BENCH_WORKER_LOGLEVEL"):
                print(worker.tail(4000))
        succeeded = Delivery.objects.filter(endpoint=endpoint,
                                            status=DeliveryStatus.SUCCEEDED).count()
        if succeeded != 1 + N_EVENTS:
            raise harness.BenchError(f"{succeeded} deliveries succeeded, "
                                     f"expected {1 + N_EVENTS}")
        posts_by_worker = hook.posts

        # Baseline: the same events' bodies, signed the same way, POSTed in a loop.
        events = list(Event.objects.filter(endpoint=endpoint).exclude(
            data__message="warm-up 0").order_by("pk"))
        secrets = delivery.live_secrets(endpoint, timezone.now())
        harness.say(f"plain loop: {len(events)} POSTs")
        began = time.perf_counter()
        for event in events:
            body = delivery.body_of(event)
            headers = signing.headers(secrets, f"{event.public_id}-loop",
                                      int(time.time()), body)
            outcome = client.post(endpoint.url, {**headers, "user-agent": client.USER_AGENT},
                                  body)
            if not outcome.succeeded:
                raise harness.BenchError(f"the plain loop's POST failed: {outcome}")
        plain = time.perf_counter() - began

        # The same engine inline, without Celery or Redis: where the worker's time goes.
        inline = [Event(workspace=endpoint.workspace, environment="sandbox",
                        type="webhook.test", endpoint=endpoint, data={"message": f"inline {i}"},
                        created_at=timezone.now()) for i in range(N_EVENTS)]
        Event.objects.bulk_create(inline)
        before = hook.distinct()
        began = time.perf_counter()
        pump.pump()
        engine = time.perf_counter() - began
        if hook.distinct() - before != N_EVENTS:
            raise harness.BenchError("the inline engine missed deliveries")

    loop_rate = harness.Measure("plain loop of client.post", len(events) / plain,
                                "deliveries/s", f"{len(events)} in {plain:.2f} s")
    worker_rate = harness.Measure(
        "one solo Celery worker", N_EVENTS / through_worker, "deliveries/s",
        f"{N_EVENTS} in {through_worker:.2f} s, commit to last 2xx; "
        f"{posts_by_worker - 1 - N_EVENTS} duplicate POSTs")
    engine_rate = harness.Measure(
        "engine inline (the pump, no broker)", N_EVENTS / engine, "deliveries/s",
        f"{N_EVENTS} in {engine:.2f} s")
    return [harness.Ratio("worker / plain loop deliveries per second", loop_rate, worker_rate),
            harness.Ratio("engine inline / plain loop", loop_rate, engine_rate),
            harness.Ratio("worker / engine inline", engine_rate, worker_rate)]
