from django.contrib import admin

from keys import services
from keys.models import ApiKey
from portal.admin_actions import with_reason


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Read-only but for revoking, which goes through the service and its audit event."""

    list_display = ["name", "public_id", "workspace_path", "environment", "created_at",
                    "expires_at", "revoked_at", "suspended_at", "last_used_at"]
    list_filter = ["environment"]
    search_fields = ["public_id", "name", "workspace_path"]
    exclude = ["secret_hash"]
    list_select_related = ["workspace__organization"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_revoke_permission(self, request):
        return request.user.has_perm("keys.delete_apikey")

    @admin.action(description="Revoke the selected keys (asks for a reason)",
                  permissions=["revoke"])
    def revoke(self, request, queryset):
        return with_reason(
            self, request, queryset.select_related("workspace__organization"),
            action="revoke", title="Revoke these API keys", button="Revoke with this reason",
            done="Revoked keys:", apply=lambda key, reason: services.revoke_key(
                actor=request.user, workspace=key.workspace, public_id=key.public_id,
                reason=reason))
