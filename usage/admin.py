from django.contrib import admin

from accounts.admin import ReadOnlyAdminMixin
from usage.models import DailyUsage, WorkspaceUsage


@admin.register(WorkspaceUsage)
class WorkspaceUsageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Usage is written by the platform only; reviewers read it."""

    list_display = ["workspace", "first_call_at", "usage_reviewed_at", "usage_reviewed_by"]
    list_select_related = ["workspace", "usage_reviewed_by"]
    search_fields = ["workspace__name", "workspace__organization__name"]


@admin.register(DailyUsage)
class DailyUsageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["period_start", "workspace", "environment", "api_key", "method", "endpoint",
                    "status_class", "count", "error_count"]
    list_filter = ["environment", "status_class"]
    list_select_related = ["workspace", "api_key"]
    search_fields = ["workspace__name", "endpoint", "api_key__public_id"]
    date_hierarchy = "period_start"
    show_full_result_count = False
