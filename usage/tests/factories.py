"""Keys and calls for usage tests (and benchmarks): no dependency on a keys factory."""

import hashlib
import itertools
import random
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

from keys.models import ApiKey, Scope

_numbers = itertools.count(1)
ENDPOINTS = [("GET", "/v1/accounts"), ("GET", "/v1/transactions"),
             ("POST", "/v1/transactions"), ("GET", "/v1/ping")]


def make_key(workspace, *, environment: str = "sandbox", name: str = "Backend",
             created_by=None) -> ApiKey:
    """An API key row as keys' services would store it (the secret itself is not needed)."""
    n = next(_numbers)
    return ApiKey.objects.create(
        workspace=workspace, environment=environment, name=name,
        public_id=f"key_usage{n:011d}",
        secret_hash=hashlib.sha256(f"usage-test-{n}".encode()).hexdigest(),
        prefix="sk_sandbox_" if environment == "sandbox" else "sk_live_", last4="abcd",
        scopes=[Scope.ACCOUNTS_READ], created_by=created_by or workspace.created_by)


def call_rows(keys: Sequence[ApiKey], count: int, *, start: datetime, end: datetime,
              seed: int = 7, prefix: str = "req") -> Iterator[tuple]:
    """`count` synthetic calls spread over [start, end), in `services.CALL_COLUMNS` order,
    for `services.copy_calls`: mostly 2xx, some 4xx and 5xx, long-tailed latency."""
    rng = random.Random(seed)
    span = (end - start).total_seconds()
    for n in range(count):
        key = keys[n % len(keys)]
        method, endpoint = ENDPOINTS[rng.randrange(len(ENDPOINTS))]
        roll = rng.random()
        status = 200 if roll < 0.9 else 404 if roll < 0.97 else 500
        latency = int(rng.lognormvariate(3.5, 0.8))
        yield (key.workspace_id, key.pk, key.environment, endpoint, method, status, latency,
               f"{prefix}_{seed}_{n}", start + timedelta(seconds=rng.random() * span))
