"""The delivery loop of one worker: many POSTs in flight, few transactions.

Each turn settles the attempts that finished, fans out waiting events and claims due
deliveries in one transaction, then starts a thread per claimed POST. A slow receiver
ties up only its own threads (at most its endpoint's in-flight cap, across workers),
never the loop: the loop keeps settling and claiming for every other endpoint while
those wait out their deadline.
"""

import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from django.conf import settings
from django.utils import timezone

from webhooks import delivery
from webhooks.client import Outcome, post

# How long a turn waits for a POST to finish before looking for new work anyway.
POLL = 0.1
# Once one POST finished, how long to wait for its siblings, so they settle together.
GATHER = 0.05
PUMP_SECONDS = 40.0


def pump(*, budget: float = PUMP_SECONDS, threads: int | None = None) -> int:
    """Deliver everything due, fanning out waiting events first, for up to `budget`
    seconds of claiming; then finish the attempts in flight. Returns attempts settled."""
    threads = threads or int(settings.WEBHOOK_WORKER_THREADS)
    stop_claiming_at = time.monotonic() + budget
    in_flight: dict[Future, delivery.Claim] = {}
    finished: list[tuple[delivery.Claim, Outcome]] = []
    settled = 0
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="webhook-post") as pool:
        while True:
            now = timezone.now()
            room = threads - len(in_flight) if time.monotonic() < stop_claiming_at else 0
            with delivery.engine_transaction():
                settled += len(delivery.settle(finished))
                if room:
                    delivery.fan_out(now)
                claims = delivery.claim(now, limit=room) if room else []
            finished = []
            for claimed in claims:
                in_flight[pool.submit(post, claimed.url, claimed.headers, claimed.body)] = claimed
            if not in_flight:
                return settled
            done, _ = wait(in_flight, timeout=POLL, return_when=FIRST_COMPLETED)
            if done and len(done) < len(in_flight):
                done, _ = wait(in_flight, timeout=GATHER)
                done = {f for f in in_flight if f.done()}
            for future in done:
                finished.append((in_flight.pop(future), future.result()))
