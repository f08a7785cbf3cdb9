from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.utils import timezone

from onboarding import services
from onboarding.models import ReviewStage, SandboxRequest
from onboarding.review.admin import ReviewStageAdmin


class AgeFilter(admin.SimpleListFilter):
    title = "age"
    parameter_name = "age"
    BUCKETS = {"1d": (None, 1), "1-3d": (1, 3), "over3d": (3, None)}

    def lookups(self, request, model_admin):
        return [("1d", "Under a day"), ("1-3d", "1 to 3 days"), ("over3d", "Over 3 days")]

    def queryset(self, request, queryset):
        if self.value() not in self.BUCKETS:
            return queryset
        younger, older = self.BUCKETS[self.value()]
        now = timezone.now()
        if younger is not None:
            queryset = queryset.filter(created_at__lte=now - timedelta(days=younger))
        if older is not None:
            queryset = queryset.filter(created_at__gt=now - timedelta(days=older))
        return queryset


class DenyForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
                             help_text="Shown to the customer, who can change and resubmit.")


def _decide(modeladmin, request, queryset, approve: bool, reason: str = "") -> None:
    done = 0
    for sandbox_request in queryset:
        try:
            services.decide_sandbox_request(reviewer=request.user, approve=approve,
                                            sandbox_request_id=sandbox_request.pk, reason=reason)
        except ValidationError as error:
            modeladmin.message_user(request, f"{sandbox_request.workspace}: "
                                    + " ".join(error.messages), messages.ERROR)
        else:
            done += 1
    if done:
        verb = "Approved" if approve else "Denied"
        modeladmin.message_user(request, f"{verb} {done} request(s).", messages.SUCCESS)


@admin.register(SandboxRequest)
class SandboxRequestAdmin(admin.ModelAdmin):
    list_display = ["workspace", "organization", "requested_by", "expected_monthly_calls",
                    "status", "created_at", "decided_by"]
    list_filter = ["status", AgeFilter]
    search_fields = ["workspace__organization__name", "workspace__name", "requested_by__email"]
    list_select_related = ["workspace__organization", "requested_by", "decided_by"]
    ordering = ["created_at"]
    actions = ["approve", "deny"]
    readonly_fields = ["workspace", "requested_by", "use_case", "expected_monthly_calls",
                       "product_areas", "status", "created_at", "decided_at", "decided_by",
                       "auto_approved", "reason"]

    @admin.display(ordering="workspace__organization__name")
    def organization(self, obj) -> str:
        return obj.workspace.organization.name

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Approve selected sandbox requests",
                  permissions=["change"])
    def approve(self, request, queryset):
        _decide(self, request, queryset, approve=True)

    @admin.action(description="Deny selected sandbox requests (asks for a reason)",
                  permissions=["change"])
    def deny(self, request, queryset):
        form = DenyForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            _decide(self, request, queryset, approve=False, reason=form.cleaned_data["reason"])
            return None
        return TemplateResponse(request, "admin/onboarding/deny_sandbox.html", {
            **self.admin_site.each_context(request), "title": "Deny sandbox access",
            "form": form, "queryset": queryset, "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        })


admin.site.register(ReviewStage, ReviewStageAdmin)
