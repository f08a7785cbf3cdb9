"""Usage page render time: 1,000,000 calls no slower than 1.5x 10,000 calls.

Two sandbox-approved workspaces, each with three sandbox keys, hold 10,000 and
1,000,000 calls spread over the last 29 days (loaded a day at a time by COPY, as
ingestion would write them: four endpoints, about 90% 2xx, 7% 404, 3% 500, long-tailed
latency); `roll_up_usage()` then builds the hourly and daily rollups the page reads.
For each range (24 h, 7 d, 30 d) the page of each workspace is measured in-process
(Django's test Client, signed in as the owner: median of 20 renders after warm-up,
the two workspaces alternating) and under gunicorn (2 workers, 4 connections).
Target per range: 1M/10k time per render under 1.5x, and 10k/1M throughput under 1.5x.
"""

import statistics
import time
from datetime import timedelta

from django.db import connection
from django.urls import reverse
from django.utils import timezone

from bench import harness
from bench.harness import BenchError, Measure, Ratio
from usage import selectors, services
from usage.models import CallRecord, DailyUsage, HourlyUsage
from usage.tests.factories import call_rows, make_key

SIZES = (10_000, 1_000_000)
DAYS = 29
KEYS = ("Backend", "Worker", "Cron")
RANGES = ("24h", "7d", "30d")
WARMUP = 3
RENDERS = 20
LOAD_SECONDS = 2.5
LOAD_ROUNDS = 3
TARGET = 1.5


def run() -> list[harness.Result]:
    now = timezone.now()
    tenants = {size: _workspace_with_calls(size, now) for size in SIZES}
    _roll_up()
    _check_rollups(tenants, now)

    results: list[harness.Result] = []
    in_process = _in_process(tenants)
    served = _served(tenants)
    small, large = SIZES
    for key in RANGES:
        results.append(Ratio(
            f"{key} page, test Client: median render time 1M/10k",
            Measure(f"{small:,} calls", in_process[key][small] * 1000, "ms"),
            Measure(f"{large:,} calls", in_process[key][large] * 1000, "ms"),
            target=TARGET))
    for key in RANGES:
        results.append(Ratio(
            f"{key} page, gunicorn: throughput 10k/1M",
            served[key][large],
            served[key][small],
            target=TARGET))
    return results


def _url(tenant: harness.Tenant, range_key: str) -> str:
    base = reverse("usage", args=[tenant.organization.slug, tenant.workspace.slug])
    return f"{base}?range={range_key}"


def _workspace_with_calls(size: int, now) -> harness.Tenant:
    """A sandbox-approved workspace with `size` sandbox calls over the last DAYS days,
    written a day at a time (COPY order follows time, as ingestion's would)."""
    tenant = harness.make_tenant("owner")
    tenant.workspace.sandbox_approved_at = now
    tenant.workspace.save()
    keys = [make_key(tenant.workspace, name=name, created_by=tenant.user) for name in KEYS]
    start = now - timedelta(days=DAYS)

    def rows():
        for day in range(DAYS):
            count = size // DAYS + (1 if day < size % DAYS else 0)
            yield from call_rows(keys, count, start=start + timedelta(days=day),
                                 end=min(start + timedelta(days=day + 1), now),
                                 seed=day, prefix=f"bench{size}")

    loaded, seconds = harness.timed(lambda: services.copy_calls(rows()))
    if loaded != size:
        raise BenchError(f"loaded {loaded:,} calls, meant {size:,}")
    harness.say(f"{size:,} calls copied in {seconds:.1f} s")
    return tenant


def _roll_up() -> None:
    hours, seconds = harness.timed(services.roll_up_usage)
    # Steady state, as autovacuum would leave it: vacuumed and analyzed. Otherwise
    # autovacuum picks the freshly loaded tables up in the middle of the measurements
    # and the plans depend on whether it has analyzed the rollups yet.
    def vacuum() -> None:
        with connection.cursor() as cursor:
            for model in (CallRecord, HourlyUsage, DailyUsage):
                cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")

    _, vacuumed = harness.timed(vacuum)
    harness.say(f"rolled up {hours:,} workspace-hours in {seconds:.1f} s "
                f"({HourlyUsage.objects.count():,} hourly rows, "
                f"{DailyUsage.objects.count():,} daily rows, "
                f"{CallRecord.objects.count():,} raw rows); vacuumed in {vacuumed:.1f} s")


def _check_rollups(tenants: dict[int, harness.Tenant], now) -> None:
    """The 30-day page must count every call: otherwise the ratio compares nothing."""
    for size, tenant in tenants.items():
        report = selectors.usage_report(tenant.workspace, "sandbox",
                                        selectors.Filters(range="30d"), now=now)
        if report.totals.count != size:
            raise BenchError(f"30d report of the {size:,}-call workspace counts "
                             f"{report.totals.count:,} calls")


def _in_process(tenants: dict[int, harness.Tenant]) -> dict[str, dict[int, float]]:
    """range -> size -> median seconds per render; the workspaces alternate, so drift
    (autovacuum, the other core) falls on both."""
    clients = {size: harness.signed_in_client(t.user) for size, t in tenants.items()}
    medians: dict[str, dict[int, float]] = {}
    for key in RANGES:
        urls = {size: _url(tenant, key) for size, tenant in tenants.items()}

        for _ in range(WARMUP):
            for size in SIZES:
                _render(clients[size], urls[size])
        times: dict[int, list[float]] = {size: [] for size in SIZES}
        for _ in range(RENDERS):
            for size in SIZES:
                times[size].append(_render(clients[size], urls[size]))
        medians[key] = {size: statistics.median(t) for size, t in times.items()}
        harness.say(f"{key}: " + ", ".join(
            f"{size:,} calls median {medians[key][size] * 1000:.1f} ms "
            f"(min {min(times[size]) * 1000:.1f}, max {max(times[size]) * 1000:.1f})"
            for size in SIZES))
    return medians


def _render(client, url: str) -> float:
    began = time.perf_counter()
    response = client.get(url)
    seconds = time.perf_counter() - began
    if response.status_code != 200:
        raise BenchError(f"GET {url} answered {response.status_code}")
    return seconds


def _served(tenants: dict[int, harness.Tenant]) -> dict[str, dict[int, Measure]]:
    """range -> size -> throughput, from LOAD_ROUNDS short runs per workspace taken in
    turn (the machine is shared: alternating spreads drift over both)."""
    headers = {size: harness.session_headers(t.user) for size, t in tenants.items()}
    measures: dict[str, dict[int, Measure]] = {}
    with harness.serve() as server:
        for key in RANGES:
            requests = {size: harness.Request(_url(tenant, key), headers=headers[size])
                        for size, tenant in tenants.items()}
            runs: dict[int, list[harness.Load]] = {size: [] for size in SIZES}
            for round_ in range(LOAD_ROUNDS):
                for size in SIZES:
                    runs[size].append(harness.load(server, requests[size], seconds=LOAD_SECONDS,
                                                   warmup=1.0 if round_ == 0 else 0.0))
            measures[key] = {size: _throughput(f"{size:,} calls", runs[size]) for size in SIZES}
            harness.say(f"{key} under load: " + ", ".join(
                f"{size:,} calls {measures[key][size].value:.1f} req/s "
                f"(runs {', '.join(f'{r.rps:.1f}' for r in runs[size])})" for size in SIZES))
    return measures


def _throughput(label: str, runs: list[harness.Load]) -> Measure:
    requests = sum(r.requests for r in runs)
    seconds = sum(r.seconds for r in runs)
    first = runs[0]
    return Measure(label, requests / seconds, "req/s",
                   f"{requests:,} requests in {len(runs)} runs, "
                   f"{sum(r.bad for r in runs)} bad, {first.tool}, {first.connections} connections")
