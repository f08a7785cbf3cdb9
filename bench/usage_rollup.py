"""Usage rollup cost: 1,000 new calls on top of 1,000,000 in the hour, at most 2x on top of 10,000.

Two sandbox workspaces, each with three keys, hold 10,000 and 1,000,000 calls in the
current hour (COPY, then one `roll_up_usage()` and VACUUM ANALYZE, the steady state).
Then, in alternating rounds, 1,000 new calls are copied into one workspace's hour and
the rollup that follows is timed: the run reads the calls received since the
watermark, so its cost should not depend on what the hour already holds. Median of
ROUNDS runs per size. A rebuild of both hours from raw rows (`rebuild=True`, what each
run used to do) is timed once for comparison. Target: 1M/10k under 2x.
"""

import statistics
from datetime import timedelta

from django.db import connection
from django.utils import timezone

from bench import harness
from bench.harness import BenchError, Measure, Ratio
from usage import services
from usage.models import CallRecord, DailyUsage, HourlyUsage
from usage.tests.factories import call_rows, make_key

SIZES = (10_000, 1_000_000)
NEW_CALLS = 1_000
ROUNDS = 7
TARGET = 2.0


def run() -> list[harness.Result]:
    now = timezone.now()
    hour = now.replace(minute=0, second=0, microsecond=0)
    keys = {size: _keys() for size in SIZES}
    for size in SIZES:
        _, seconds = harness.timed(lambda size=size: services.copy_calls(call_rows(
            keys[size], size, start=hour, end=now, prefix=f"roll{size}")))
        harness.say(f"{size:,} calls copied into the current hour in {seconds:.1f} s")
    hours, seconds = harness.timed(services.roll_up_usage)
    harness.say(f"first rollup: {hours} workspace-hours in {seconds:.1f} s")
    _vacuum()

    times: dict[int, list[float]] = {size: [] for size in SIZES}
    for round_ in range(ROUNDS):
        for size in SIZES:
            moment = timezone.now()
            services.copy_calls(call_rows(keys[size], NEW_CALLS, start=hour,
                                          end=max(moment, hour + timedelta(seconds=1)),
                                          seed=100 + round_, prefix=f"new{size}"))
            touched, seconds = harness.timed(services.roll_up_usage)
            if touched != 1:
                raise BenchError(f"a rollup of {NEW_CALLS:,} new calls touched {touched} "
                                 "workspace-hours, meant 1")
            times[size].append(seconds)
    _check_totals(keys)
    harness.say(", ".join(
        f"{size:,} calls: median {statistics.median(t) * 1000:.1f} ms "
        f"(min {min(t) * 1000:.1f}, max {max(t) * 1000:.1f})" for size, t in times.items()))
    _, rebuilt = harness.timed(lambda: services.roll_up_usage(rebuild=True))
    _check_totals(keys)

    small, large = SIZES
    return [
        Ratio(f"rollup of {NEW_CALLS:,} new calls: median time with 1M/10k in the hour",
              Measure(f"{small:,} calls in the hour", statistics.median(times[small]) * 1000,
                      "ms"),
              Measure(f"{large:,} calls in the hour", statistics.median(times[large]) * 1000,
                      "ms"),
              target=TARGET),
        Measure("rebuild of both hours from raw rows (what each run cost before)",
                rebuilt * 1000, "ms"),
    ]


def _keys():
    tenant = harness.make_tenant("owner")
    return [make_key(tenant.workspace, name=name, created_by=tenant.user)
            for name in ("Backend", "Worker", "Cron")]


def _vacuum() -> None:
    with connection.cursor() as cursor:
        for model in (CallRecord, HourlyUsage, DailyUsage):
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")


def _check_totals(keys) -> None:
    """Every call counted once, or the timings compare nothing."""
    for size, workspace_keys in keys.items():
        expected = size + ROUNDS * NEW_CALLS
        for model in (HourlyUsage, DailyUsage):
            counted = sum(model.objects.filter(api_key__in=workspace_keys)
                          .values_list("count", flat=True))
            if counted != expected:
                raise BenchError(f"{model.__name__} counts {counted:,} calls of the "
                                 f"{size:,}-call workspace, meant {expected:,}")
