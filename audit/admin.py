from django.contrib import admin

from audit.models import Action, AuditEvent


class ActionFilter(admin.SimpleListFilter):
    """Filter by action, showing each action's label (the field has no `choices=`)."""

    title = "action"
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return Action.choices

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(action=self.value())
        return queryset


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "action_label", "actor", "target_type", "target_id",
                    "ip_address"]
    list_filter = [ActionFilter]
    search_fields = ["actor__email", "target_id"]
    list_select_related = ["actor"]
    date_hierarchy = "occurred_at"

    @admin.display(description="action", ordering="action")
    def action_label(self, event: AuditEvent) -> str:
        return event.action_label

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
