"""Usage: one raw row per API call, and hourly and daily rollups that pages read.

Raw rows are written by `services.record_call` (the sandbox API) and by the gateway's
reports; `services.roll_up_usage` turns them into rollups. The usage page reads rollups
only; the request log reads raw rows of the last days, a page at a time.
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now

from keys.models import Environment
from usage.histogram import BUCKETS

ERROR_BODY_MAX = 4000


class StatusClass(models.IntegerChoices):
    """The first digit of the HTTP status: what the charts stack and colour."""

    INFORMATIONAL = 1, "1xx"
    SUCCESS = 2, "2xx"
    REDIRECT = 3, "3xx"
    CLIENT_ERROR = 4, "4xx"
    SERVER_ERROR = 5, "5xx"


class CallRecord(models.Model):
    """One API call, as the sandbox API or the gateway saw it. Append-only."""

    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE,
                                  related_name="+", db_index=False)
    api_key = models.ForeignKey("keys.ApiKey", on_delete=models.CASCADE, related_name="+",
                                db_index=False)
    environment = models.CharField(max_length=16, choices=Environment.choices)
    endpoint = models.CharField(max_length=200)
    method = models.CharField(max_length=8)
    status = models.PositiveSmallIntegerField()
    latency_ms = models.PositiveIntegerField()
    request_id = models.CharField(max_length=100)
    # The problem+json body an error answered with, cut at ERROR_BODY_MAX characters; empty
    # for successes and for calls the gateway reports (it sends no bodies).
    error_body = models.TextField(blank=True, db_default="")
    occurred_at = models.DateTimeField()
    # When the row was written (statement time): the rollup's watermark follows it, so
    # a call reported late still lands in the hour it occurred in.
    received_at = models.DateTimeField(db_default=Now())

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["environment", "request_id"],
                                    name="usage_call_request_id_unique"),
        ]
        indexes = [
            # Recomputing one workspace-hour from raw rows.
            models.Index(fields=["workspace", "occurred_at"], name="usage_call_ws_time"),
            # "Received since the watermark" (every few seconds) and retention. A B-tree,
            # not BRIN: after a bulk load every BRIN range would match.
            models.Index(fields=["received_at"], name="usage_call_received"),
            # The request log: one workspace and environment, newest first, by keyset.
            models.Index(fields=["workspace", "environment", "-occurred_at", "-id"],
                         name="usage_call_log"),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.endpoint} {self.status} ({self.request_id})"


class UsageRollupQuerySet(models.QuerySet):
    def for_workspace(self, workspace, environment: str) -> "UsageRollupQuerySet":
        """Rollups of one workspace in one environment (sandbox pages never see live data)."""
        return self.filter(workspace=workspace, environment=environment)


class UsageRollup(models.Model):
    """Calls of one period, grouped by key, endpoint, method and status class.

    `latency_buckets[i]` counts calls whose latency fell in `histogram.BUCKETS[i]`, so
    percentiles of any sum of rows can be estimated without the raw rows.
    """

    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE,
                                  related_name="+", db_index=False)
    api_key = models.ForeignKey("keys.ApiKey", on_delete=models.CASCADE, related_name="+")
    environment = models.CharField(max_length=16, choices=Environment.choices)
    endpoint = models.CharField(max_length=200)
    method = models.CharField(max_length=8)
    status_class = models.PositiveSmallIntegerField(choices=StatusClass.choices)
    period_start = models.DateTimeField()
    count = models.PositiveIntegerField()
    error_count = models.PositiveIntegerField()
    latency_sum_ms = models.BigIntegerField()
    latency_buckets = ArrayField(models.IntegerField(), size=len(BUCKETS))

    objects = UsageRollupQuerySet.as_manager()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.period_start:%Y-%m-%d %H:%M} {self.method} {self.endpoint}: {self.count}"


# The natural key of a rollup row; its unique index is also the one pages read
# through (workspace, then a time range).
ROLLUP_KEY = ["workspace", "period_start", "environment", "api_key", "endpoint", "method",
              "status_class"]


class HourlyUsage(UsageRollup):
    """Calls of one UTC hour."""

    class Meta:
        verbose_name_plural = "hourly usage"
        constraints = [
            models.UniqueConstraint(fields=ROLLUP_KEY, name="usage_hourly_unique"),
            models.CheckConstraint(condition=Q(latency_buckets__len=len(BUCKETS)),
                                   name="usage_hourly_buckets"),
        ]


class DailyUsage(UsageRollup):
    """Calls of one UTC day, summed from the hourly rows."""

    class Meta:
        verbose_name_plural = "daily usage"
        constraints = [
            models.UniqueConstraint(fields=ROLLUP_KEY, name="usage_daily_unique"),
            models.CheckConstraint(condition=Q(latency_buckets__len=len(BUCKETS)),
                                   name="usage_daily_buckets"),
        ]


class WorkspaceUsage(models.Model):
    """Per-workspace milestones the onboarding lanes read with one primary-key lookup."""

    workspace = models.OneToOneField("workspaces.Workspace", on_delete=models.CASCADE,
                                     primary_key=True, related_name="+")
    first_call_at = models.DateTimeField(null=True, blank=True)  # earliest sandbox call
    usage_reviewed_at = models.DateTimeField(null=True, blank=True)
    usage_reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                          on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name_plural = "workspace usage"

    def __str__(self) -> str:
        return f"Usage milestones of workspace {self.workspace_id}"


class RollupWatermark(models.Model):
    """How far rollups have read the raw table, by `CallRecord.received_at`.

    Locked and advanced in the same transaction as the rollup rows it accounts for.
    """

    name = models.CharField(max_length=32, primary_key=True)
    received_before = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name}: {self.received_before:%Y-%m-%d %H:%M:%S}"
