"""Webhook delivery throughput and first-attempt latency through one real Celery worker.

Three ways of delivering N events (600) to a receiver on 127.0.0.1 (in a process of its
own, as a real receiver is) are measured in the same rounds, interleaved, their order
rotating; the report gives the median of the 5 rounds' ratios (and each round's), after
a warm-up round that is not counted.

- The worker: N events committed through the outbox in one transaction; one pump task
  queued on Redis; fanned out, claimed in batches, POSTed concurrently and settled per
  batch by one solo worker process (`celery worker -P solo`, queues of its own); timed
  from the commit to the receiver's last first arrival.
- The engine inline: N events, then `webhooks.pump.pump()` in this process, no broker.
- The baseline: a plain loop in this process POSTing N events' bodies, signed as the
  engine signs them, with the same HTTP client (`webhooks.client.post`), one by one.

Targets (issue 12): the worker at least 0.5x the plain loop's deliveries per second, the
engine inline at least 0.7x. Then 50 events/s for 10 s, each committed in its own
transaction, measure the time from commit to the receiver's 2xx: p95 under 1 s.

Expected before measuring: a pump turn is one transaction of three statements (settle;
fan out and lock the endpoints; count, pick and lease), building no model
instance per delivery; a turn starts when about half of the endpoint's in-flight cap
(50) has answered, so the rest are in flight while the database works. Expected: both
engines beat the loop, whose POSTs wait for each answer in turn. Measured (three runs):
both make about 400 deliveries/s, 0.72x-1.4x the loop; the endpoint's cap and a turn's
five round trips (2-20 ms each on this shared 2-core machine, with the other engineers'
load) bound them. Single rounds move a lot; the median of interleaved rounds less.

BENCH_WORKER_LOGLEVEL=INFO prints the worker's log, with each task's duration.
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from bench import harness
from bench.harness.receiver import receiver

N_EVENTS = 600  # per round and way of delivering
ROUNDS = 5  # counted, after one warm-up round
RATE = 50  # events per second, each in its own transaction, for the latency figures
LOAD_SECONDS = 10.0
DEADLINE = 120.0  # seconds for the worker to deliver everything
ROOT = Path(__file__).resolve().parent.parent


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


def emit_events(endpoint, count: int, *, tag: str = "bench",
                committed: list[float] | None = None) -> list:
    """`count` webhook.test events to the endpoint, committed in one transaction; the
    time of the commit (time.perf_counter()) is appended to `committed`, if given."""
    from outbox.services import emit

    with transaction.atomic():
        if committed is not None:  # the first callback after commit, before the outbox's
            transaction.on_commit(lambda: committed.append(time.perf_counter()))
        return [emit(workspace=endpoint.workspace, environment="sandbox", type="webhook.test",
                     endpoint=endpoint, data={"message": f"{tag} {i}"})
                for i in range(count)]


def steady_load(endpoint, hook) -> list[float]:
    """Commit one event every 1/RATE s for LOAD_SECONDS; return each event's seconds
    from its commit to its first arrival at the receiver."""
    committed: dict[str, float] = {}
    harness.say(f"steady load: {RATE} events/s for {LOAD_SECONDS:g} s")
    start = time.monotonic()
    for i in range(int(RATE * LOAD_SECONDS)):
        time.sleep(max(0.0, start + i / RATE - time.monotonic()))
        (event,) = emit_events(endpoint, 1, tag="steady")
        committed[event.public_id] = time.monotonic()
    if not _arrived(hook, committed, DEADLINE):
        raise harness.BenchError("the worker missed events of the steady load")
    return sorted(hook.first_seen[pid] - at for pid, at in committed.items())


def _arrived(hook, committed: dict[str, float], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        with hook.lock:
            if all(pid in hook.first_seen for pid in committed):
                return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile of sorted values."""
    return values[min(len(values) - 1, max(0, round(share * len(values)) - 1))]


def _wait_settled(endpoint, timeout: float) -> None:
    """Until no delivery to the endpoint is pending (the worker settled its last turn)."""
    from webhooks.models import Delivery, DeliveryStatus

    deadline = time.monotonic() + timeout
    while Delivery.objects.filter(endpoint=endpoint, status=DeliveryStatus.PENDING).exists():
        if time.monotonic() > deadline:
            raise harness.BenchError("the worker left deliveries pending")
        time.sleep(0.01)


def _through_worker(endpoint, hook, worker, count: int, tag: str) -> float:
    """Seconds from committing `count` events to the last one's first arrival."""
    before, committed = hook.distinct(), []
    emit_events(endpoint, count, tag=tag, committed=committed)
    if not hook.wait_for(before + count, DEADLINE):
        raise harness.BenchError(f"the worker delivered {hook.distinct() - before} of {count} "
                                 f"events in {DEADLINE:g} s:\n" + worker.tail())
    seconds = time.perf_counter() - committed[0]  # writing the events is the caller's
    _wait_settled(endpoint, DEADLINE)
    time.sleep(0.5)  # the pump's last turn, which finds nothing more to do
    return seconds


def _new_events(endpoint, count: int, tag: str, *, dispatched: bool = False) -> list:
    """`count` events written directly (no task queued); `dispatched` ones are never
    fanned out, so no engine delivers them."""
    from webhooks.models import Event

    now = timezone.now()
    return Event.objects.bulk_create(
        Event(workspace=endpoint.workspace, environment="sandbox", type="webhook.test",
              endpoint=endpoint, data={"message": f"{tag} {i}"}, created_at=now,
              dispatched_at=now if dispatched else None) for i in range(count))


def _inline(endpoint, hook, count: int, tag: str) -> float:
    from webhooks import pump

    _new_events(endpoint, count, tag)
    before = hook.distinct()
    began = time.perf_counter()
    pump.pump()
    seconds = time.perf_counter() - began
    # Every POST was answered; the receiver's report of the last ones may still be on
    # its way to this process.
    if not hook.wait_for(before + count, 10):
        raise harness.BenchError("the inline engine missed deliveries")
    return seconds


def _plain_loop(endpoint, count: int, tag: str) -> float:
    """POST `count` events' bodies, signed as the engine signs them, one after another."""
    from webhooks import client, payloads, signing

    events = _new_events(endpoint, count, tag, dispatched=True)
    secrets = payloads.live_secrets(endpoint, timezone.now())
    began = time.perf_counter()
    for event in events:
        body = payloads.body_of(event)
        headers = signing.headers(secrets, event.public_id, int(time.time()), body)
        outcome = client.post(endpoint.url, {**headers, "user-agent": client.USER_AGENT},
                              body)
        if not outcome.succeeded:
            raise harness.BenchError(f"the plain loop's POST failed: {outcome}")
    return time.perf_counter() - began


def run() -> list[harness.Result]:
    from webhooks.models import Delivery, DeliveryStatus

    queue = f"bench-webhooks-{uuid.uuid4().hex[:8]}"
    seconds: dict[str, list[float]] = {"loop": [], "worker": [], "inline": []}
    with override_settings(WEBHOOKS_ALLOW_LOOPBACK=True), receiver() as hook, \
            celery_queue(queue):
        _, endpoint = sandbox_endpoint(hook.url)
        worker = Worker(queue).start()
        try:
            # The worker is up and has connected to the database and Redis.
            emit_events(endpoint, 1, tag="first")
            if not hook.wait_for(1, 60):
                raise harness.BenchError("the worker delivered no first event in 60 s:\n"
                                         + worker.tail())
            _wait_settled(endpoint, DEADLINE)
            ways = {"loop": lambda tag: _plain_loop(endpoint, N_EVENTS, tag),
                    "worker": lambda tag: _through_worker(endpoint, hook, worker, N_EVENTS,
                                                          tag),
                    "inline": lambda tag: _inline(endpoint, hook, N_EVENTS, tag)}
            order = list(ways)
            for round_ in range(ROUNDS + 1):
                took = {way: ways[way](f"round {round_} {way}") for way in order}
                harness.say(f"round {round_ or 'warm-up'}: " + ", ".join(
                    f"{way} {N_EVENTS / took[way]:.0f}/s" for way in seconds))
                if round_:  # the warm-up round is not counted
                    for way in seconds:
                        seconds[way].append(took[way])
                order = order[1:] + order[:1]
            latencies = steady_load(endpoint, hook)
        finally:
            worker.stop()
            if os.environ.get("BENCH_WORKER_LOGLEVEL"):
                print(worker.tail(4000))
        engine_deliveries = 1 + 2 * (ROUNDS + 1) * N_EVENTS + len(latencies)
        succeeded = Delivery.objects.filter(endpoint=endpoint,
                                            status=DeliveryStatus.SUCCEEDED).count()
        if succeeded != engine_deliveries:
            raise harness.BenchError(f"{succeeded} deliveries succeeded, "
                                     f"expected {engine_deliveries}")
        duplicates = hook.posts - engine_deliveries - (ROUNDS + 1) * N_EVENTS

    def rate(way: str, label: str) -> harness.Measure:
        rates = [N_EVENTS / s for s in seconds[way]]
        return harness.Measure(label, statistics.median(rates), "deliveries/s",
                               f"median of {ROUNDS} rounds of {N_EVENTS}: "
                               + ", ".join(f"{r:.0f}" for r in rates))

    def ratio(title: str, way: str, label: str, target: float) -> harness.Ratio:
        # Each round's ratio is of two measures taken back to back; the median of those.
        per_round = [loop / took for loop, took in zip(seconds["loop"], seconds[way],
                                                       strict=True)]
        loop = rate("loop", "plain loop of client.post")
        measured = rate(way, label)
        median = statistics.median(per_round)
        return harness.Ratio(
            f"{title} (per round: {', '.join(f'{r:.2f}x' for r in per_round)})",
            loop, harness.Measure(measured.label, loop.value * median, measured.unit,
                                  f"{measured.note}; median round ratio {median:.2f}x"),
            target=target, at_least=True)

    target = harness.Measure("the target", 1000.0, "ms")
    p50, p95 = (percentile(latencies, share) * 1000 for share in (0.5, 0.95))
    note = f"{len(latencies)} events at {RATE}/s, commit to the receiver's 2xx"
    return [ratio("worker / plain loop deliveries per second", "worker",
                  f"one solo Celery worker ({duplicates} duplicate POSTs in all)", 0.5),
            ratio("engine inline / plain loop", "inline",
                  "engine inline (the pump, no broker)", 0.7),
            harness.Ratio("worker / engine inline", rate("inline", "engine inline"),
                          rate("worker", "one solo Celery worker")),
            harness.Measure("first-attempt latency p50", p50, "ms", note),
            harness.Ratio("first-attempt latency p95 / 1 s", target,
                          harness.Measure("p95", p95, "ms", note), target=1.0)]
