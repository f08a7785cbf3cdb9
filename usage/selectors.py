"""Reading usage for pages and exports: rollups, and for the request log the raw rows of
the last days, a page at a time.

Every function takes the workspace and environment as arguments and costs a fixed
number of queries whatever the number of calls.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection
from django.utils import timezone

from audit.spreadsheet import csv_chunks
from keys.models import ApiKey
from portal import keyset
from usage.histogram import BUCKETS, add, percentile
from usage.models import CallRecord, DailyUsage, HourlyUsage, StatusClass

TOP = 10
KEY_CHOICES_LIMIT = 100
ENDPOINT_CHOICES_LIMIT = 200


@dataclass(frozen=True)
class Range:
    key: str
    label: str
    granularity: str  # "hour" or "day"
    periods: int

    @property
    def step(self) -> timedelta:
        return timedelta(hours=1) if self.granularity == "hour" else timedelta(days=1)

    @property
    def model(self):
        return HourlyUsage if self.granularity == "hour" else DailyUsage


RANGES = {
    "24h": Range("24h", "Last 24 hours", "hour", 24),
    "7d": Range("7d", "Last 7 days", "hour", 24 * 7),
    "30d": Range("30d", "Last 30 days", "day", 30),
}
DEFAULT_RANGE = "24h"


@dataclass(frozen=True)
class Filters:
    range: str = DEFAULT_RANGE
    key_pk: int | None = None
    endpoint: str = ""


@dataclass
class Totals:
    """Calls of one period, endpoint or key, with what the page derives from them."""

    label: str = ""
    count: int = 0
    errors: int = 0
    latency_sum_ms: int = 0
    histogram: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))
    by_class: dict[int, int] = field(default_factory=dict)

    def add(self, row: dict) -> None:
        self.count += row["count"]
        self.errors += row["errors"]
        self.latency_sum_ms += int(row["latency_sum_ms"])
        self.histogram = add(self.histogram, _histogram(row))
        if "status_class" in row:
            self.by_class[row["status_class"]] = (
                self.by_class.get(row["status_class"], 0) + row["count"])

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.count if self.count else None

    @property
    def p50(self) -> float | None:
        return percentile(self.histogram, 0.50)

    @property
    def p95(self) -> float | None:
        return percentile(self.histogram, 0.95)

    @property
    def mean_ms(self) -> float | None:
        return self.latency_sum_ms / self.count if self.count else None


@dataclass(frozen=True)
class Period:
    start: datetime
    totals: Totals


@dataclass(frozen=True)
class Report:
    range: Range
    start: datetime
    end: datetime
    periods: list[Period]
    totals: Totals
    classes: list[int]  # status classes to draw, in order
    endpoints: list[Totals]
    keys: list[Totals]


def window(range_: Range, now: datetime) -> tuple[datetime, datetime]:
    """[start, end) of a range ending with the current, still open, hour or day."""
    end = now.replace(minute=0, second=0, microsecond=0)
    if range_.granularity == "day":
        end = end.replace(hour=0)
    end += range_.step
    return end - range_.step * range_.periods, end


def _histogram(row: dict) -> list[int]:
    return [row[f"b{i}"] or 0 for i in range(len(BUCKETS))]


def _rollups(workspace, environment: str, filters: Filters, range_: Range, start, end):
    rows = range_.model.objects.for_workspace(workspace, environment).filter(
        period_start__gte=start, period_start__lt=end)
    if filters.key_pk:
        rows = rows.filter(api_key_id=filters.key_pk)
    if filters.endpoint:
        rows = rows.filter(endpoint=filters.endpoint)
    return rows


_SUM_COLUMNS = ", ".join(
    ["sum(r.count)", "sum(r.error_count)", "sum(r.latency_sum_ms)"]
    + [f"sum(r.latency_buckets[{i + 1}])" for i in range(len(BUCKETS))])

# One scan of the range's rollup rows, summed three ways at once: by period and status
# class (the charts), by endpoint, and by key (the top tables). Assembled from table
# names and constants only; every value is a parameter.
_REPORT = (
    "SELECT GROUPING(r.period_start), GROUPING(r.method), r.period_start, r.status_class, "  # noqa: S608
    f"r.method, r.endpoint, k.public_id, k.name, {_SUM_COLUMNS} "
    "FROM {table} r JOIN " + ApiKey._meta.db_table + " k ON k.id = r.api_key_id "
    "WHERE r.workspace_id = %s AND r.environment = %s AND r.period_start >= %s "
    "AND r.period_start < %s{filters} GROUP BY GROUPING SETS ("
    "(r.period_start, r.status_class), (r.method, r.endpoint), (k.public_id, k.name))"
)


def _report_rows(workspace, environment: str, filters: Filters, range_: Range, start, end):
    conditions, params = "", [workspace.pk, environment, start, end]
    if filters.key_pk:
        conditions += " AND r.api_key_id = %s"
        params.append(filters.key_pk)
    if filters.endpoint:
        conditions += " AND r.endpoint = %s"
        params.append(filters.endpoint)
    sql = _REPORT.format(table=range_.model._meta.db_table, filters=conditions)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _sums_of(row: tuple) -> dict:
    count, errors, latency_sum, *buckets = row[8:]
    sums = {"count": count, "errors": errors, "latency_sum_ms": latency_sum}
    sums.update({f"b{i}": value for i, value in enumerate(buckets)})
    return sums


def _top(items: list[tuple[Totals, tuple]]) -> list[Totals]:
    return [totals for totals, _ in sorted(items, key=lambda item: item[1])[:TOP]]


def usage_report(workspace, environment: str, filters: Filters, now: datetime | None = None
                 ) -> Report:
    """Requests by status class over time, latency, top endpoints and keys: one query."""
    range_ = RANGES[filters.range]
    start, end = window(range_, now or timezone.now())

    by_start: dict[datetime, Totals] = {}
    totals = Totals(label="All calls")
    endpoints, keys = [], []
    for row in _report_rows(workspace, environment, filters, range_, start, end):
        by_period, by_endpoint = row[0] == 0, row[1] == 0
        period_start, status_class, method, endpoint, key_id, key_name = row[2:8]
        sums = _sums_of(row)
        if by_period:
            sums["status_class"] = status_class
            by_start.setdefault(period_start, Totals()).add(sums)
            totals.add(sums)
        elif by_endpoint:
            item = Totals(label=f"{method} {endpoint}")
            item.add(sums)
            endpoints.append((item, (-item.count, endpoint, method)))
        else:
            item = Totals(label=f"{key_name} ({key_id})")
            item.add(sums)
            keys.append((item, (-item.count, key_id)))
    periods = [Period(start + range_.step * i, by_start.get(start + range_.step * i, Totals()))
               for i in range(range_.periods)]
    classes = sorted({StatusClass.SUCCESS, StatusClass.CLIENT_ERROR, StatusClass.SERVER_ERROR}
                     | set(totals.by_class))
    return Report(range_, start, end, periods, totals, classes, _top(endpoints), _top(keys))


def key_choices(workspace, environment: str) -> list[tuple[int, str, str]]:
    """(pk, public id, name) of the workspace's keys of one environment, newest first."""
    return list(ApiKey.objects.for_workspace(workspace).filter(environment=environment)
                .order_by("-created_at").values_list("pk", "public_id", "name")
                [:KEY_CHOICES_LIMIT])


def endpoint_choices(workspace, environment: str, now: datetime | None = None) -> list[str]:
    """Endpoints called in the longest range, from the daily rollups."""
    start, _ = window(RANGES["30d"], now or timezone.now())
    return list(DailyUsage.objects.for_workspace(workspace, environment)
                .filter(period_start__gte=start).order_by("endpoint")
                .values_list("endpoint", flat=True).distinct()[:ENDPOINT_CHOICES_LIMIT])


EXPORT_FIELDS = ["period_start", "granularity", "key_id", "key_name", "environment", "method",
                 "endpoint", "status_class", "requests", "errors", "latency_sum_ms",
                 *(f"latency_ms_{b.lower_ms}_{b.upper_ms if b.upper_ms else 'plus'}"
                   for b in BUCKETS)]


def export_csv(workspace, environment: str, filters: Filters,
               now: datetime | None = None) -> Iterator[str]:
    """The rollup rows behind the page, as CSV chunks; one streamed query."""
    range_ = RANGES[filters.range]
    start, end = window(range_, now or timezone.now())
    rows = (_rollups(workspace, environment, filters, range_, start, end)
            .order_by("period_start", "method", "endpoint", "api_key_id", "status_class")
            .values_list("period_start", "api_key__public_id", "api_key__name", "environment",
                         "method", "endpoint", "status_class", "count", "error_count",
                         "latency_sum_ms", "latency_buckets"))
    # csv_chunks quotes what a spreadsheet would run, e.g. a key named "=HYPERLINK(...)".
    return csv_chunks(EXPORT_FIELDS, (
        [period_start.isoformat(), range_.granularity, key_id, key_name, env, method,
         endpoint, StatusClass(status_class).label, count, errors, latency_sum, *buckets]
        for (period_start, key_id, key_name, env, method, endpoint, status_class, count,
             errors, latency_sum, buckets) in rows.iterator(chunk_size=2000)
    ))


# --- The request log: raw rows of the last days, a page at a time -----------------------------

LOG_DAYS = 7
LOG_PAGE_SIZE = 50
STATUS_CLASS_RANGES = {"2xx": (200, 300), "3xx": (300, 400), "4xx": (400, 500),
                       "5xx": (500, 600)}


@dataclass(frozen=True)
class LogFilters:
    status_class: str = ""  # a key of STATUS_CLASS_RANGES, or "" for all
    key_pk: int | None = None
    endpoint: str = ""
    request_id: str = ""
    before: tuple[datetime, int] | None = None  # the keyset cursor: (occurred_at, id)


def request_log(workspace, environment: str, filters: LogFilters,
                now: datetime | None = None) -> keyset.Page:
    """Calls of one workspace and environment in the last LOG_DAYS days, newest first, a
    page after the cursor: one query, walking the (workspace, environment, occurred_at,
    id) index backwards. A request id finds its call whatever the other filters say."""
    calls = CallRecord.objects.filter(workspace=workspace, environment=environment)
    if filters.request_id:
        calls = calls.filter(request_id=filters.request_id)
    else:
        calls = calls.filter(occurred_at__gte=(now or timezone.now()) - timedelta(days=LOG_DAYS))
        if filters.status_class:
            low, high = STATUS_CLASS_RANGES[filters.status_class]
            calls = calls.filter(status__gte=low, status__lt=high)
        if filters.key_pk:
            calls = calls.filter(api_key_id=filters.key_pk)
        if filters.endpoint:
            calls = calls.filter(endpoint=filters.endpoint)
    return keyset.page(calls.select_related("api_key"), field="occurred_at",
                       after=None if filters.request_id else filters.before,
                       size=LOG_PAGE_SIZE)
