from django.contrib import admin

from webhooks.models import Delivery, Endpoint, Event


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    """Read-only: endpoint changes go through the services, with their audit events."""

    list_display = ["public_id", "url", "workspace", "environment", "enabled", "created_at"]
    list_filter = ["environment", "enabled"]
    search_fields = ["public_id", "url"]
    exclude = ["secret_encrypted", "previous_secret_encrypted"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["public_id", "type", "workspace", "environment", "created_at",
                    "dispatched_at"]
    list_filter = ["type", "environment"]
    search_fields = ["public_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "event", "endpoint", "kind", "status", "attempt_count",
                    "next_attempt_at"]
    list_filter = ["status", "kind"]
    list_select_related = ["event", "endpoint"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
