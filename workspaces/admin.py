from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from keys import suspension
from portal.admin_actions import with_reason
from workspaces import domain_claims
from workspaces.models import DomainClaim, Organization


@admin.register(DomainClaim)
class DomainClaimAdmin(admin.ModelAdmin):
    """Read-only but for releasing, which goes through the service and its audit event."""

    list_display = ["domain", "organization", "status", "claimed_by", "claimed_at",
                    "verified_at", "checked_at"]
    list_filter = ["status"]
    search_fields = ["domain", "organization__name", "organization__slug"]
    exclude = ["token"]
    actions = ["release"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_release_permission(self, request):
        return request.user.has_perm("workspaces.delete_domainclaim")

    @admin.action(description="Release the selected domain claims", permissions=["release"])
    def release(self, request, queryset):
        released = 0
        for claim in queryset:
            try:
                domain_claims.release_domain(actor=request.user, claim_id=claim.pk)
            except ValidationError as error:
                self.message_user(request, f"{claim.domain}: " + " ".join(error.messages),
                                  messages.ERROR)
            else:
                released += 1
        if released:
            self.message_user(request, f"Released {released} domain claim(s).", messages.SUCCESS)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    """Read-only but for suspending and lifting a suspension, through the service."""

    list_display = ["name", "slug", "created_at", "suspended_at"]
    search_fields = ["name", "slug"]
    readonly_fields = ["suspension_reason"]
    actions = ["suspend", "lift_suspension"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

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
