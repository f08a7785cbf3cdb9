import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from usage import services, tasks
from usage.histogram import percentile
from usage.models import CallRecord, DailyUsage, HourlyUsage, RollupWatermark, WorkspaceUsage
from usage.tests.factories import call_rows, make_key


def day_start(days_ago: int):
    now = timezone.now()
    return now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days_ago)


def rollup_rows(model):
    """(id, period, key name, environment, method, endpoint, class, count, errors, latency
    sum, buckets), ordered by what the row is about."""
    return sorted(model.objects.values_list(
        "id", "period_start", "api_key__name", "environment", "method", "endpoint",
        "status_class", "count", "error_count", "latency_sum_ms", "latency_buckets"),
        key=lambda row: row[1:7])


@pytest.fixture
def known_calls(workspace):
    """Two days ago: six sandbox calls at 10:00-11:00 UTC, one at 11:xx, one production."""
    sandbox, live = make_key(workspace, name="Backend"), make_key(
        workspace, environment="production", name="Live")
    ten = day_start(2) + timedelta(hours=10)
    for n, (key, method, endpoint, status, latency, minute) in enumerate([
        (sandbox, "GET", "/v1/accounts", 200, 3, 5),
        (sandbox, "GET", "/v1/accounts", 200, 7, 10),
        (sandbox, "GET", "/v1/accounts", 201, 40, 15),
        (sandbox, "GET", "/v1/accounts", 404, 12, 20),
        (sandbox, "POST", "/v1/transactions", 500, 800, 25),
        (sandbox, "POST", "/v1/transactions", 503, 12000, 30),
        (sandbox, "GET", "/v1/accounts", 200, 30, 65),
        (live, "GET", "/v1/accounts", 200, 90, 1),
    ]):
        services.record_call(api_key=key, endpoint=endpoint, method=method, status=status,
                             latency_ms=latency, request_id=f"req_{n}",
                             occurred_at=ten + timedelta(minutes=minute))
    return ten


@pytest.mark.django_db
def test_hourly_rollup_counts_errors_latency_and_buckets_exactly(known_calls):
    ten, eleven = known_calls, known_calls + timedelta(hours=1)

    assert services.roll_up_usage() == 2

    assert [row[1:] for row in rollup_rows(HourlyUsage)] == [
        (ten, "Backend", "sandbox", "GET", "/v1/accounts", 2, 3, 0, 50,
         [1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]),
        (ten, "Backend", "sandbox", "GET", "/v1/accounts", 4, 1, 1, 12,
         [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        (ten, "Backend", "sandbox", "POST", "/v1/transactions", 5, 2, 2, 12800,
         [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1]),
        (ten, "Live", "production", "GET", "/v1/accounts", 2, 1, 0, 90,
         [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]),
        (eleven, "Backend", "sandbox", "GET", "/v1/accounts", 2, 1, 0, 30,
         [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]),
    ]


@pytest.mark.django_db
def test_daily_rollup_sums_the_hours_and_gives_the_percentiles(known_calls):
    services.roll_up_usage()

    day = known_calls.replace(hour=0)
    sandbox = DailyUsage.objects.filter(environment="sandbox")
    assert set(sandbox.values_list("period_start", flat=True)) == {day}
    accounts_2xx = sandbox.get(endpoint="/v1/accounts", status_class=2)
    assert (accounts_2xx.count, accounts_2xx.error_count, accounts_2xx.latency_sum_ms) == (
        4, 0, 80)
    assert accounts_2xx.latency_buckets == [1, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0]
    # 4 calls: rank 2 ends the 5-10 ms bucket; rank 3.8 is 90% into the 25-50 ms bucket.
    assert percentile(accounts_2xx.latency_buckets, 0.50) == 10.0
    assert percentile(accounts_2xx.latency_buckets, 0.95) == pytest.approx(47.5)
    assert sum(sandbox.values_list("count", flat=True)) == 7
    assert sum(sandbox.values_list("error_count", flat=True)) == 3


@pytest.mark.django_db
def test_running_the_rollup_twice_changes_nothing(known_calls):
    services.roll_up_usage()
    hourly, daily = rollup_rows(HourlyUsage), rollup_rows(DailyUsage)

    assert services.roll_up_usage() == 0
    assert services.roll_up_usage(rebuild=True) == 2

    assert rollup_rows(HourlyUsage) == hourly
    assert rollup_rows(DailyUsage) == daily


@pytest.mark.django_db
def test_a_late_report_reopens_its_hour_and_day(known_calls, workspace):
    services.roll_up_usage()
    key = make_key(workspace, name="Worker")

    services.record_call(api_key=key, endpoint="/v1/accounts", method="GET", status=200,
                         latency_ms=4, request_id="req_late",
                         occurred_at=known_calls + timedelta(minutes=59))
    assert services.roll_up_usage() == 1

    late = HourlyUsage.objects.get(api_key=key)
    assert (late.period_start, late.count, late.latency_buckets[0]) == (known_calls, 1, 1)
    assert sum(DailyUsage.objects.filter(environment="sandbox")
               .values_list("count", flat=True)) == 8


@pytest.mark.django_db
def test_first_call_milestone_is_the_earliest_sandbox_call(known_calls, workspace):
    services.roll_up_usage()

    assert WorkspaceUsage.objects.get(workspace=workspace).first_call_at == (
        known_calls + timedelta(minutes=5))

    earlier = known_calls - timedelta(hours=3)
    services.record_call(api_key=make_key(workspace), endpoint="/v1/ping", method="GET",
                         status=200, latency_ms=1, request_id="req_earlier",
                         occurred_at=earlier)
    services.roll_up_usage()
    assert WorkspaceUsage.objects.get(workspace=workspace).first_call_at == earlier


@pytest.mark.django_db
def test_production_calls_alone_set_no_first_sandbox_call(workspace):
    services.record_call(api_key=make_key(workspace, environment="production"),
                         endpoint="/v1/accounts", method="GET", status=200, latency_ms=5,
                         request_id="req_live")

    services.roll_up_usage()

    assert not WorkspaceUsage.objects.filter(workspace=workspace).exists()
    assert HourlyUsage.objects.get().environment == "production"


@pytest.mark.django_db
def test_the_beat_task_runs_the_same_rollup(known_calls):
    assert tasks.roll_up_usage.delay().get() == 2

    assert HourlyUsage.objects.count() == 5
    assert RollupWatermark.objects.get().received_before <= timezone.now()


@pytest.mark.django_db
def test_bulk_loaded_calls_roll_up_to_the_same_totals(workspace):
    keys = [make_key(workspace, name="A"), make_key(workspace, name="B")]
    start = day_start(3)
    rows = list(call_rows(keys, 2000, start=start, end=start + timedelta(days=3)))

    assert services.copy_calls(rows) == 2000
    services.roll_up_usage()

    errors = sum(1 for row in rows if row[5] >= 400)
    for model in (HourlyUsage, DailyUsage):
        assert sum(model.objects.values_list("count", flat=True)) == 2000
        assert sum(model.objects.values_list("error_count", flat=True)) == errors
        assert sum(model.objects.values_list("latency_sum_ms", flat=True)) == sum(
            row[6] for row in rows)


@pytest.mark.django_db
def test_purge_drops_raw_rows_past_retention_and_keeps_rollups(known_calls):
    services.roll_up_usage()
    CallRecord.objects.filter(request_id__in=["req_0", "req_1"]).update(
        received_at=timezone.now() - services.RAW_RETENTION - timedelta(minutes=1))

    assert services.purge_raw_calls(batch_size=1) == 2

    assert CallRecord.objects.count() == 6
    assert sum(HourlyUsage.objects.values_list("count", flat=True)) == 8


# --- Concurrency: real transactions on separate connections ---------------------------------

def _in_thread(work, started: threading.Event, release: threading.Event):
    """Run `work` in a transaction on another connection, held open until `release`."""
    def run():
        try:
            with transaction.atomic():
                work()
                started.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    assert started.wait(10)
    return thread


@pytest.mark.django_db(transaction=True)
def test_a_call_committed_after_a_run_started_is_not_lost(workspace):
    key = make_key(workspace)
    started, release = threading.Event(), threading.Event()
    # A writer's transaction inserts a call and stays open (a slow sandbox request).
    writer = _in_thread(lambda: services.record_call(
        api_key=key, endpoint="/v1/ping", method="GET", status=200, latency_ms=2,
        request_id="req_slow"), started, release)

    services.roll_up_usage()  # cannot see the uncommitted call
    release.set()
    writer.join()
    assert not HourlyUsage.objects.exists()

    services.roll_up_usage()
    assert HourlyUsage.objects.get().count == 1


@pytest.mark.django_db(transaction=True)
def test_a_second_concurrent_run_steps_aside(workspace):
    services.roll_up_usage()  # creates the watermark row
    started, release = threading.Event(), threading.Event()
    holder = _in_thread(lambda: RollupWatermark.objects.select_for_update().get(),
                        started, release)

    try:
        assert services.roll_up_usage() is None
    finally:
        release.set()
        holder.join()
    assert services.roll_up_usage() == 0


@pytest.mark.django_db
def test_new_calls_are_added_to_the_rolled_up_hour_exactly_as_a_rebuild_counts_them(workspace):
    keys = [make_key(workspace, name="A"), make_key(workspace, name="B")]
    start = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    services.copy_calls(call_rows(keys, 2000, start=start, end=start + timedelta(hours=2)))
    services.roll_up_usage()

    # More calls in the same hours, then the run that only reads them.
    services.copy_calls(call_rows(keys, 500, start=start, end=start + timedelta(hours=2),
                                  seed=8))
    assert services.roll_up_usage() == 2
    hourly, daily = rollup_rows(HourlyUsage), rollup_rows(DailyUsage)

    assert services.roll_up_usage(rebuild=True) == 2
    assert rollup_rows(HourlyUsage) == hourly
    assert rollup_rows(DailyUsage) == daily
    assert sum(row[7] for row in hourly) == 2500
    assert sum(row[7] for row in daily) == 2500


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_while_calls_arrive_count_every_call_once(workspace):
    key = make_key(workspace)
    writers_done = threading.Event()
    errors = []

    def write(prefix: str):
        try:
            for n in range(60):
                services.record_call(api_key=key, endpoint="/v1/ping", method="GET",
                                     status=200 if n % 5 else 500, latency_ms=n,
                                     request_id=f"{prefix}_{n}")
        except Exception as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    def roll_up():
        try:
            while not writers_done.is_set():
                services.roll_up_usage()
        except Exception as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    writers = [threading.Thread(target=write, args=(p,)) for p in ("a", "b")]
    rollers = [threading.Thread(target=roll_up) for _ in range(2)]
    for thread in writers + rollers:
        thread.start()
    for thread in writers:
        thread.join(60)
    writers_done.set()
    for thread in rollers:
        thread.join(60)
    services.roll_up_usage()

    assert errors == []
    assert sum(HourlyUsage.objects.values_list("count", flat=True)) == 120
    assert sum(HourlyUsage.objects.values_list("error_count", flat=True)) == 24
    assert sum(DailyUsage.objects.values_list("count", flat=True)) == 120
    hourly = rollup_rows(HourlyUsage)
    services.roll_up_usage(rebuild=True)
    assert rollup_rows(HourlyUsage) == hourly
