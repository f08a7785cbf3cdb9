"""The delivery loop of one worker: many POSTs in flight, few transactions.

Each turn settles the attempts that finished, fans out waiting events and claims due
deliveries in one transaction of three statements, then hands each claimed POST to a
thread. A turn starts once about half of the POSTs in flight have finished, so the
other half are still in flight while the database works: claiming overlaps posting.
A slow receiver ties up only its own threads (at most its endpoint's in-flight cap,
across workers), never the loop: the loop keeps settling and claiming for every other
endpoint while those wait out their deadline.

The threads are started once per process and kept between pumps.
"""

import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from django.conf import settings
from django.utils import timezone

from webhooks import delivery
from webhooks.client import Outcome, post

# How long a turn waits for a POST to finish before looking for new work anyway.
POLL = 0.1
# Once one POST finished, how long to wait for about half of those in flight, so a
# turn settles many at once while the rest are still in flight.
GATHER = 0.05
PUMP_SECONDS = 40.0

_pools: dict[int, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def _pool(threads: int) -> ThreadPoolExecutor:
    """This process's POST threads (created on first use, as many as `threads`)."""
    with _pools_lock:
        if threads not in _pools:
            _pools[threads] = ThreadPoolExecutor(max_workers=threads,
                                                 thread_name_prefix="webhook-post")
        return _pools[threads]


def _gather(in_flight: dict[Future, delivery.Claim]) -> set[Future]:
    """The POSTs finished after the first one, and those that finish within GATHER
    until about half of those in flight have."""
    done, pending = wait(in_flight, timeout=POLL, return_when=FIRST_COMPLETED)
    until = time.monotonic() + GATHER
    while done and pending and 2 * len(done) < len(in_flight):
        left = until - time.monotonic()
        if left <= 0:
            break
        more, pending = wait(pending, timeout=left, return_when=FIRST_COMPLETED)
        done |= more
    return done


def pump(*, budget: float = PUMP_SECONDS, threads: int | None = None) -> int:
    """Deliver everything due, fanning out waiting events first, for up to `budget`
    seconds of claiming; then finish the attempts in flight. Returns attempts settled."""
    threads = threads or int(settings.WEBHOOK_WORKER_THREADS)
    pool = _pool(threads)
    stop_claiming_at = time.monotonic() + budget
    in_flight: dict[Future, delivery.Claim] = {}
    finished: list[tuple[delivery.Claim, Outcome]] = []
    settled = 0
    with delivery.engine_session():
        while True:
            now = timezone.now()
            room = threads - len(in_flight) if time.monotonic() < stop_claiming_at else 0
            with delivery.engine_transaction():
                settled += len(delivery.settle(finished))
                claims = delivery.claim(now, limit=room, fan_out_first=True) if room else []
            finished = []
            for claimed in claims:
                in_flight[pool.submit(post, claimed.url, claimed.headers, claimed.body)] = claimed
            if not in_flight:
                return settled
            for future in _gather(in_flight):
                finished.append((in_flight.pop(future), future.result()))
