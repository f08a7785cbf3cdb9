from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from workspaces import domain_claims
from workspaces.models import DomainClaim


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
