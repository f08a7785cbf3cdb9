from django.contrib import admin

from accounts.admin import ReadOnlyAdminMixin
from keys import services, suspension
from keys.models import ApiKey
from portal.admin_actions import with_reason
from workspaces.models import Organization


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only but for revoking, which goes through the service and its audit event."""

    list_display = ["name", "public_id", "workspace_path", "environment", "created_at",
                    "expires_at", "revoked_at", "suspended_at", "last_used_at"]
    list_filter = ["environment"]
    search_fields = ["public_id", "name", "workspace_path"]
    exclude = ["secret_hash"]
    list_select_related = ["workspace__organization"]
    actions = ["revoke"]

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


@admin.register(Organization)
class OrganizationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only but for suspending and lifting a suspension, through the service (here,
    beside the keys it stops, so that workspaces never imports keys)."""

    list_display = ["name", "slug", "created_at", "suspended_at"]
    search_fields = ["name", "slug"]
    readonly_fields = ["suspension_reason"]
    actions = ["suspend", "lift_suspension"]

    def has_suspend_permission(self, request):
        return request.user.has_perm("workspaces.change_organization")

    @admin.action(description="Suspend the selected organizations (asks for a reason)",
                  permissions=["suspend"])
    def suspend(self, request, queryset):
        return with_reason(
            self, request, queryset, action="suspend", title="Suspend these organizations",
            button="Suspend with this reason", done="Suspended organizations:",
            apply=lambda organization, reason: suspension.suspend_organization(
                actor=request.user, organization_id=organization.pk, reason=reason))

    @admin.action(description="Lift the suspension of the selected organizations (asks "
                  "for a reason)", permissions=["suspend"])
    def lift_suspension(self, request, queryset):
        return with_reason(
            self, request, queryset, action="lift_suspension",
            title="Lift the suspension of these organizations",
            button="Lift with this reason", done="Lifted the suspension of organizations:",
            apply=lambda organization, reason: suspension.lift_suspension(
                actor=request.user, organization_id=organization.pk, reason=reason))
