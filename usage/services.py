"""Writing usage: raw call rows, the rollups built from them, and the lane milestones.

Recording a call is one INSERT ... ON CONFLICT DO NOTHING: the request id, unique per
environment, makes a retried report harmless. Calls are counted by the platform, not
by a person, so none of this writes audit events.

A rollup run adds the calls received in [watermark, upto) to the hourly and daily rows
they belong to, so it costs what arrived since the last run, not what the hour already
holds. `upto` is a moment before which every writer has committed, so each raw row is
added exactly once; the watermark advances to it in the same transaction as the
increments. A run that dies (worker restart, acks_late redelivery) rolls back whole and
the next run adds the same rows once. `rebuild` recomputes open hours from raw rows
instead. Hours older than records.MAX_AGE are final: no report may reopen them, so their
raw rows can be purged.
"""

import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from audit.models import Action
from audit.services import record
from keys.models import ApiKey, Environment
from usage.histogram import BUCKETS
from usage.models import (
    ERROR_BODY_MAX,
    CallRecord,
    DailyUsage,
    HourlyUsage,
    RollupWatermark,
    WorkspaceUsage,
)
from usage.records import MAX_AGE, CallIn, FieldError, InvalidBatch

logger = logging.getLogger(__name__)

WATERMARK = "rollups"
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
# Raw rows are kept this long after they arrive; rollups forever. Longer than
# records.MAX_AGE, so an hour still open to late reports always has all its raw rows.
RAW_RETENTION = MAX_AGE + timedelta(days=5)
# A writer transaction open longer than this stops holding the watermark back (an
# abandoned "idle in transaction" session must not make every run rescan hours of rows).
MAX_WRITER_AGE = timedelta(minutes=15)
PAIRS_PER_STATEMENT = 2000

CALL_COLUMNS = ("workspace_id", "api_key_id", "environment", "endpoint", "method", "status",
                "latency_ms", "request_id", "occurred_at")
_CALLS = CallRecord._meta.db_table
_HOURLY = HourlyUsage._meta.db_table
_DAILY = DailyUsage._meta.db_table
_MILESTONES = WorkspaceUsage._meta.db_table
_KEY = "workspace_id, period_start, environment, api_key_id, endpoint, method, status_class"

# SQL below is assembled from model table names and constants only (hence the S608
# exemptions); every value travels as a query parameter.
_INSERT_CALL = (
    f"INSERT INTO {_CALLS} ({', '.join(CALL_COLUMNS)}, error_body) "  # noqa: S608
    f"VALUES ({', '.join(['%s'] * (len(CALL_COLUMNS) + 1))}) "
    "ON CONFLICT (environment, request_id) DO NOTHING"
)
_INSERT_CALLS = (
    f"INSERT INTO {_CALLS} ({', '.join(CALL_COLUMNS)}) "  # noqa: S608
    "SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::varchar[], %s::varchar[], "
    "%s::varchar[], %s::smallint[], %s::integer[], %s::varchar[], %s::timestamptz[]) "
    "ON CONFLICT (environment, request_id) DO NOTHING"
)


def record_call(*, api_key, endpoint: str, method: str, status: int, latency_ms: int,
                request_id: str, occurred_at: datetime | None = None,
                error_body: str = "") -> bool:
    """Record one call made with `api_key`; False when its request id was already recorded.

    `error_body`, the problem+json an error answered with, is kept for the request log,
    cut at ERROR_BODY_MAX characters.

    `api_key` is an ApiKey or anything with its `pk`, `workspace_id` and `environment`
    (such as keys.selectors.KeyInfo). One INSERT ... ON CONFLICT DO NOTHING, no lock.
    """
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_CALL, [
            api_key.workspace_id, api_key.pk, api_key.environment, endpoint, method.upper(),
            status, latency_ms, request_id, occurred_at or timezone.now(),
            error_body[:ERROR_BODY_MAX]])
        return cursor.rowcount == 1


def record_reported_calls(*, records: Sequence[CallIn]) -> tuple[int, int]:
    """Store a validated gateway report whole, in one statement: (accepted, duplicates).

    Raises InvalidBatch naming every item whose key id is not one of ours; then nothing
    is stored.
    """
    if not records:
        return 0, 0
    keys = {public_id: (pk, workspace_id, environment) for public_id, pk, workspace_id,
            environment in ApiKey.objects.filter(public_id__in={r.key_id for r in records})
            .values_list("public_id", "pk", "workspace_id", "environment")}
    unknown = [FieldError(index, "key_id", "is not a key of this platform")
               for index, r in enumerate(records) if r.key_id not in keys]
    if unknown:
        raise InvalidBatch(unknown)
    columns = [[] for _ in CALL_COLUMNS]
    for r in records:
        key_pk, workspace_id, environment = keys[r.key_id]
        for column, value in zip(columns, (
                workspace_id, key_pk, environment, r.endpoint, r.method, r.status,
                r.latency_ms, r.request_id, r.occurred_at), strict=True):
            column.append(value)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_INSERT_CALLS, columns)
        accepted = cursor.rowcount
    return accepted, len(records) - accepted


def mark_usage_reviewed(*, workspace, user) -> bool:
    """Note the first time a member opens the usage page after a sandbox call was rolled
    up; True only that first time. One idempotent UPDATE: repeats change nothing; the
    first time is a milestone of the onboarding lane, so it is an audit event."""
    with transaction.atomic():
        first = WorkspaceUsage.objects.filter(
            workspace=workspace, first_call_at__isnull=False, usage_reviewed_at__isnull=True,
        ).update(usage_reviewed_at=timezone.now(), usage_reviewed_by=user) == 1
        if first:
            record(action=Action.USAGE_REVIEWED, actor=user, workspace=workspace)
    return first


# --- Rollups ------------------------------------------------------------------------------

def _bucket_counts() -> str:
    """ARRAY[count of calls in bucket 0, ...] over raw rows `c`."""
    parts = []
    for bucket in BUCKETS:
        condition = f"c.latency_ms >= {bucket.lower_ms:d}"
        if bucket.upper_ms is not None:
            condition += f" AND c.latency_ms < {bucket.upper_ms:d}"
        parts.append(f"count(*) FILTER (WHERE {condition})")
    return f"ARRAY[{', '.join(parts)}]::integer[]"


def _bucket_sums(alias: str = "h") -> str:
    """ARRAY[sum of bucket 0, ...] over rollup rows `alias`."""
    parts = [f"sum({alias}.latency_buckets[{i + 1}])" for i in range(len(BUCKETS))]
    return f"ARRAY[{', '.join(parts)}]::integer[]"


_UPSERT = (
    "ON CONFLICT ({key}) DO UPDATE SET count = EXCLUDED.count, "
    "error_count = EXCLUDED.error_count, latency_sum_ms = EXCLUDED.latency_sum_ms, "
    "latency_buckets = EXCLUDED.latency_buckets "
    # Rewriting an unchanged row would only make dead tuples.
    "WHERE ({table}.count, {table}.latency_sum_ms, {table}.latency_buckets) "
    "IS DISTINCT FROM (EXCLUDED.count, EXCLUDED.latency_sum_ms, EXCLUDED.latency_buckets)"
)
# Histograms add bucket by bucket, so an increment merges into a row like any other sum.
_MERGE_BUCKETS = "ARRAY[{}]::integer[]".format(", ".join(
    f"t.latency_buckets[{i + 1}] + EXCLUDED.latency_buckets[{i + 1}]"
    for i in range(len(BUCKETS))))
_INCREMENT = (
    f"ON CONFLICT ({_KEY}) DO UPDATE SET count = t.count + EXCLUDED.count, "
    "error_count = t.error_count + EXCLUDED.error_count, "
    "latency_sum_ms = t.latency_sum_ms + EXCLUDED.latency_sum_ms, "
    f"latency_buckets = {_MERGE_BUCKETS}"
)
_PAIRS = "unnest(%s::bigint[], %s::timestamptz[]) AS d(workspace_id, period_start)"
_ROLLUP_COLUMNS = f"{_KEY}, count, error_count, latency_sum_ms, latency_buckets"
_GROUP = "c.environment, c.api_key_id, c.endpoint, c.method, c.status / 100"

# Only the rows received in [since, upto) are read, through the received_at index: the
# cost follows what is new. They are summed once into `delta`, which then increments
# the hours, the days and the first successful (2xx) sandbox call. The result:
# workspace-hours touched.
_INCREMENTS = (
    "WITH delta AS ("  # noqa: S608
    "SELECT c.workspace_id, date_trunc('hour', c.occurred_at, 'UTC') AS period_start, "
    f"{_GROUP} AS status_class, count(*) AS count, "
    "count(*) FILTER (WHERE c.status >= 400) AS error_count, "
    f"sum(c.latency_ms) AS latency_sum_ms, {_bucket_counts()} AS latency_buckets, "
    "min(c.occurred_at) FILTER (WHERE c.environment = %s AND c.status / 100 = 2) "
    "AS first_call_at "
    f"FROM {_CALLS} c WHERE c.received_at >= %s AND c.received_at < %s "
    f"AND c.occurred_at >= %s GROUP BY 1, 2, {_GROUP}), "
    f"hours AS (INSERT INTO {_HOURLY} AS t ({_ROLLUP_COLUMNS}) "
    f"SELECT {_KEY}, count, error_count, latency_sum_ms, latency_buckets FROM delta "
    f"{_INCREMENT}), "
    f"days AS (INSERT INTO {_DAILY} AS t ({_ROLLUP_COLUMNS}) "
    "SELECT workspace_id, date_trunc('day', period_start, 'UTC'), environment, api_key_id, "
    "endpoint, method, status_class, sum(count), sum(error_count), sum(latency_sum_ms), "
    f"{_bucket_sums('delta')} FROM delta GROUP BY 1, 2, 3, 4, 5, 6, 7 "
    f"{_INCREMENT}), "
    f"firsts AS (INSERT INTO {_MILESTONES} AS t (workspace_id, first_call_at) "
    "SELECT workspace_id, min(first_call_at) FROM delta WHERE first_call_at IS NOT NULL "
    "GROUP BY workspace_id ON CONFLICT (workspace_id) DO UPDATE SET first_call_at = "
    "LEAST(t.first_call_at, EXCLUDED.first_call_at)) "
    "SELECT count(DISTINCT (workspace_id, period_start)) FROM delta"
)

# Rebuild: each (workspace, period) pair is aggregated in a LATERAL subquery, one index
# range scan per pair, counting the rows received before `upto` (the later ones are the
# next run's increments).
_HOURS_FROM_RAW = (
    f"INSERT INTO {_HOURLY} ({_ROLLUP_COLUMNS}) "  # noqa: S608
    f"SELECT d.workspace_id, d.period_start, a.* FROM {_PAIRS} CROSS JOIN LATERAL ("
    f"SELECT {_GROUP}, count(*), "
    f"count(*) FILTER (WHERE c.status >= 400), sum(c.latency_ms), {_bucket_counts()} "
    f"FROM {_CALLS} c WHERE c.workspace_id = d.workspace_id "
    "AND c.occurred_at >= d.period_start AND c.occurred_at < d.period_start + interval '1 hour' "
    f"AND c.received_at < %s GROUP BY {_GROUP}) a "
    f"{_UPSERT.format(key=_KEY, table=_HOURLY)}"
)

_DAYS_FROM_HOURS = (
    f"INSERT INTO {_DAILY} ({_ROLLUP_COLUMNS}) "  # noqa: S608
    f"SELECT d.workspace_id, d.period_start, a.* FROM {_PAIRS} CROSS JOIN LATERAL ("
    "SELECT h.environment, h.api_key_id, h.endpoint, h.method, h.status_class, sum(h.count), "
    f"sum(h.error_count), sum(h.latency_sum_ms), {_bucket_sums()} "
    f"FROM {_HOURLY} h WHERE h.workspace_id = d.workspace_id "
    "AND h.period_start >= d.period_start AND h.period_start < d.period_start + interval '1 day' "
    "GROUP BY h.environment, h.api_key_id, h.endpoint, h.method, h.status_class) a "
    f"{_UPSERT.format(key=_KEY, table=_DAILY)}"
)

# Only hours that could hold an earlier first sandbox call than the one known are read.
_FIRST_CALLS = (
    f"INSERT INTO {_MILESTONES} (workspace_id, first_call_at) "  # noqa: S608
    f"SELECT d.workspace_id, min(f.first_call_at) FROM {_PAIRS} "
    f"LEFT JOIN {_MILESTONES} w ON w.workspace_id = d.workspace_id "
    "CROSS JOIN LATERAL (SELECT min(c.occurred_at) AS first_call_at "
    f"FROM {_CALLS} c WHERE c.workspace_id = d.workspace_id AND c.environment = %s "
    "AND c.status / 100 = 2 "
    "AND c.occurred_at >= d.period_start AND c.occurred_at < d.period_start + interval '1 hour'"
    ") f WHERE f.first_call_at IS NOT NULL "
    "AND (w.first_call_at IS NULL OR d.period_start <= w.first_call_at) "
    "GROUP BY d.workspace_id "
    "ON CONFLICT (workspace_id) DO UPDATE SET first_call_at = "
    f"LEAST({_MILESTONES}.first_call_at, EXCLUDED.first_call_at)"
)

# Every row with received_at before the result is committed: a row is written at or
# after its transaction started, so rows of transactions still open are newer than the
# oldest of them. Read before the rollup's transaction takes the snapshot that reads the
# rows (whatever its isolation level). pg_stat_activity is cached per transaction, hence
# the clear. Needs to see other sessions of the same role (it does, without privileges).
_SAFE_UPTO = (
    "SELECT LEAST(statement_timestamp(), min(xact_start)) FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
    "AND backend_type = 'client backend' AND xact_start IS NOT NULL "
    "AND xact_start > statement_timestamp() - %s"
)

_DIRTY_HOURS = (
    "SELECT DISTINCT workspace_id, date_trunc('hour', occurred_at, 'UTC') "  # noqa: S608
    f"FROM {_CALLS} WHERE received_at < %s AND occurred_at >= %s"
)


def _chunks(pairs: list[tuple[int, datetime]]) -> Iterable[list[list]]:
    for start in range(0, len(pairs), PAIRS_PER_STATEMENT):
        chunk = pairs[start:start + PAIRS_PER_STATEMENT]
        yield [[ws for ws, _ in chunk], [moment for _, moment in chunk]]


def _rebuild(cursor, *, upto: datetime, horizon: datetime) -> int:
    """Recompute every open hour, its day and first call from the rows received before
    `upto`; the number of workspace-hours."""
    cursor.execute(_DIRTY_HOURS, [upto, horizon])
    hours = sorted(cursor.fetchall())
    days = sorted({(ws, hour.replace(hour=0)) for ws, hour in hours})
    for chunk in _chunks(hours):
        cursor.execute(_HOURS_FROM_RAW, [*chunk, upto])
        cursor.execute(_FIRST_CALLS, [*chunk, Environment.SANDBOX])
    for chunk in _chunks(days):
        cursor.execute(_DAYS_FROM_HOURS, chunk)
    return len(hours)


def roll_up_usage(*, rebuild: bool = False) -> int | None:
    """Add the calls received since the watermark to the hourly and daily rollups and the
    first-call milestones; the number of workspace-hours touched, or None when another
    run holds the watermark (that run, or the next, covers what this one would have).

    Exact and safe to repeat: each raw row is added by the one run whose window
    [watermark, upto) holds its received_at, and that run moves the watermark in the
    same transaction. `rebuild` recomputes every hour still open to late reports
    (records.MAX_AGE) from raw rows instead, e.g. after a bulk load or a repair.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(_SAFE_UPTO, [MAX_WRITER_AGE])
        (upto,) = cursor.fetchone()
    with transaction.atomic():
        RollupWatermark.objects.bulk_create(
            [RollupWatermark(name=WATERMARK, received_before=EPOCH)], ignore_conflicts=True)
        watermark = (RollupWatermark.objects.select_for_update(skip_locked=True)
                     .filter(name=WATERMARK).first())
        if watermark is None:
            return None
        # Rows before the watermark are counted already, whatever the clock says now.
        upto = max(upto, watermark.received_before)
        horizon = (timezone.now() - MAX_AGE).replace(minute=0, second=0, microsecond=0)
        with connection.cursor() as cursor:
            if rebuild:
                hours = _rebuild(cursor, upto=upto, horizon=horizon)
            else:
                cursor.execute(_INCREMENTS, [Environment.SANDBOX, watermark.received_before,
                                             upto, horizon])
                (hours,) = cursor.fetchone()
        watermark.received_before = upto
        watermark.save(update_fields=["received_before", "updated_at"])
    if hours:
        logger.info("usage rollup: %d workspace-hours%s", hours,
                    " rebuilt" if rebuild else "")
    return hours


_PURGE = (
    f"DELETE FROM {_CALLS} WHERE id IN (SELECT id FROM {_CALLS} "  # noqa: S608
    "WHERE received_at < %s LIMIT %s)"
)


def purge_raw_calls(*, batch_size: int = 10_000) -> int:
    """Delete raw rows past RAW_RETENTION, a batch per transaction; rollups stay."""
    cutoff = timezone.now() - RAW_RETENTION
    deleted = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_PURGE, [cutoff, batch_size])
            deleted += cursor.rowcount
            if cursor.rowcount < batch_size:
                return deleted


def copy_calls(rows: Iterable[Sequence]) -> int:
    """Bulk-load raw calls with COPY, for benchmarks and imports; the number loaded.

    Each row holds CALL_COLUMNS in order. COPY has no ON CONFLICT: one repeated
    (environment, request_id) fails the whole load. Run `roll_up_usage()` afterwards.
    """
    loaded = 0
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY {_CALLS} ({', '.join(CALL_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                loaded += 1
        # Fresh statistics, or the planner may scan the whole table to find what is new.
        cursor.execute(f"ANALYZE {_CALLS}")
    return loaded
