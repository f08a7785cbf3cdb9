"""Webhook delivery under faults: a worker killed with -9, and the broker stopped.

Everything runs against a redis-server this benchmark starts on a free loopback port
(never the machine's Redis), a receiver on 127.0.0.1 that de-duplicates by webhook-id,
and solo Celery workers in subprocesses on a queue of their own. The periodic sweep is
played by this process: whenever the queue is empty and events are still missing, it
queues `webhooks.tasks.sweep` (what beat does every minute in production).

1. kill -9: 1,000 events are committed; once a fifth have arrived the worker is
   killed with SIGKILL and a new one started. PASS when every event reaches the
   receiver at least once (a delivery claimed by the dead worker waits out its 60 s
   lease, then the sweep queues it again).
2. Broker down: Redis is stopped, 50 events are committed one transaction each (their
   dispatch cannot be queued: `outbox.services.enqueue` logs it), Redis is started again. PASS
   when the sweep finds every undispatched event and each is delivered.

Pass or fail per fault, printed as a measure (1 = pass); duplicates are reported.
"""

import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager

from django.db import transaction
from django.test import override_settings

from bench import harness
from bench.harness.receiver import receiver
from bench.webhook_delivery import Worker, celery_queue, emit_events, sandbox_endpoint

KILL_EVENTS = 1000
OUTAGE_EVENTS = 50
DEADLINE = 240.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Redis:
    """A throwaway redis-server on loopback, without persistence."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.dir = tempfile.mkdtemp(prefix="bench-redis-")
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise harness.BenchError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def queue_length(self, queue: str) -> int:
        import redis

        try:
            return redis.Redis(port=self.port, socket_timeout=1).llen(queue)
        except redis.RedisError:
            return -1


@contextmanager
def broker(app, url: str):
    """Point this process's Celery producer at url (dropping pooled connections)."""
    saved = app.conf.broker_url

    def reset():
        app._pool = None
        app.amqp._producer_pool = None

    app.conf.broker_url = url
    reset()
    try:
        yield
    finally:
        app.conf.broker_url = saved
        reset()


def _deliver_all(hook, expected: int, redis: Redis, queue: str, deadline: float) -> bool:
    """Wait for `expected` distinct webhook-ids, playing beat's sweep when the queue is idle."""
    from outbox.services import enqueue
    from webhooks.tasks import sweep

    end = time.monotonic() + deadline
    last_sweep = 0.0
    while hook.distinct() < expected:
        if time.monotonic() > end:
            return False
        if redis.queue_length(queue + "webhooks") == 0 and time.monotonic() - last_sweep > 3:
            enqueue(sweep)
            last_sweep = time.monotonic()
        time.sleep(0.1)
    return True


def run() -> list[harness.Result]:
    if shutil.which("redis-server") is None:
        raise harness.BenchError("redis-server is not installed")
    queue = f"bench-faults-{uuid.uuid4().hex[:8]}"
    redis = Redis()
    redis.start()
    results: list[harness.Result] = []
    workers: list[Worker] = []

    def new_worker() -> Worker:
        worker = Worker(queue, env={"REDIS_URL": redis.url,
                                    "CELERY_BROKER_URL": redis.url}).start()
        workers.append(worker)
        return worker

    try:
        with override_settings(WEBHOOKS_ALLOW_LOOPBACK=True), receiver() as hook, \
                celery_queue(queue) as app, broker(app, redis.url):
            _, endpoint = sandbox_endpoint(hook.url)
            first = new_worker()
            emit_events(endpoint, 1, tag="warm-up")
            if not hook.wait_for(1, 60):
                raise harness.BenchError("no warm-up delivery in 60 s:\n" + first.tail())

            # 1. kill -9 of the worker while it works through 1,000 events.
            began = time.monotonic()
            # Killed as soon as a fifth has arrived, by a thread watching from before the
            # commit: the worker, with POSTs in flight, delivers the rest in about a
            # second, less than emit's after-commit callbacks may take here.
            killer = threading.Thread(target=lambda: (hook.wait_for(1 + KILL_EVENTS // 5, 60),
                                                      first.kill()))
            killer.start()
            emit_events(endpoint, KILL_EVENTS, tag="kill")
            killer.join()
            at_kill = hook.distinct() - 1
            harness.say(f"worker killed with {at_kill} of {KILL_EVENTS} delivered")
            if at_kill >= KILL_EVENTS:
                raise harness.BenchError("the worker delivered every event before the kill: "
                                         "the fault was not exercised")
            second = new_worker()
            ok = _deliver_all(hook, 1 + KILL_EVENTS, redis, queue, DEADLINE)
            results.append(harness.Measure(
                "kill -9 during 1,000 events: every event delivered", float(ok), "pass",
                f"{'PASS' if ok else 'FAIL'}: {hook.distinct() - 1} distinct of {KILL_EVENTS} "
                f"in {time.monotonic() - began:.1f} s, {hook.posts - hook.distinct()} "
                "duplicate POSTs"))
            if not ok:
                print(second.tail())

            # 2. Redis stopped while events are committed, then started again.
            from outbox.services import emit

            expected = hook.distinct() + OUTAGE_EVENTS
            redis.stop()
            began = time.monotonic()
            for i in range(OUTAGE_EVENTS):
                with transaction.atomic():
                    emit(workspace=endpoint.workspace, environment="sandbox",
                         type="webhook.test", endpoint=endpoint, data={"message": f"down {i}"})
            harness.say(f"{OUTAGE_EVENTS} events committed with Redis down in "
                        f"{time.monotonic() - began:.1f} s")
            redis.start()
            ok = _deliver_all(hook, expected, redis, queue, DEADLINE)
            missing = expected - hook.distinct()
            results.append(harness.Measure(
                "Redis down while 50 events are created: all delivered by the sweep",
                float(ok), "pass",
                f"{'PASS' if ok else 'FAIL'}: {OUTAGE_EVENTS - max(missing, 0)} of "
                f"{OUTAGE_EVENTS} in {time.monotonic() - began:.1f} s"))
            if not ok:
                print(second.tail())
    finally:
        for worker in workers:
            worker.stop()
        redis.stop()
        shutil.rmtree(redis.dir, ignore_errors=True)
    return results
