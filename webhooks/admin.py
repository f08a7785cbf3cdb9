from django.contrib import admin

from accounts.admin import ReadOnlyAdminMixin
from webhooks.models import Delivery, Endpoint, Event


@admin.register(Endpoint)
class EndpointAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: endpoint changes go through the services, with their audit events."""

    list_display = ["public_id", "url", "workspace", "environment", "enabled", "created_at"]
    list_filter = ["environment", "enabled"]
    search_fields = ["public_id", "url"]
    exclude = ["secret_encrypted", "previous_secret_encrypted"]


@admin.register(Event)
class EventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["public_id", "type", "workspace", "environment", "created_at",
                    "dispatched_at"]
    list_filter = ["type", "environment"]
    search_fields = ["public_id"]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "event", "endpoint", "kind", "status", "attempt_count",
                    "next_attempt_at"]
    list_filter = ["status", "kind"]
    list_select_related = ["event", "endpoint"]
