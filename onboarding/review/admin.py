"""The platform reviewers' queue: submitted stages oldest first, one page with a stage's
answers and evidence, and the decision (approve, or request changes with a reason per
field or item). Registered in onboarding/admin.py."""

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from onboarding.models import ReviewStage, StageDecision, StageStatus
from onboarding.review import catalog, services
from onboarding.review.selectors import answer_rows, stage_diff
from onboarding.review.views import screenshot_response
from onboarding.services import ReviewConflict
from workspaces.models import BillingProfile

item_label = catalog.item_label


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"),
                                          ("changes", "Request changes")],
                                 widget=forms.RadioSelect)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}),
                            help_text="Shown to the customer.")
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, stage: ReviewStage, **kwargs):
        super().__init__(*args, **kwargs)
        spec = catalog.BY_KIND[stage.kind]
        # A "No"'s explanation is named through its question; files by their own label.
        for key in (*(f for f in spec.fields if f not in catalog.NOTES), *spec.checks):
            self.fields[f"reason:{key}"] = forms.CharField(
                label=item_label(key), required=False,
                widget=forms.TextInput(attrs={"size": 60}),
                help_text="Reason, if this must change.")

    def changes(self) -> dict[str, str]:
        return {name.removeprefix("reason:"): value.strip()
                for name, value in self.cleaned_data.items()
                if name.startswith("reason:") and value.strip()}


class QueueStatusFilter(admin.SimpleListFilter):
    """Status, defaulting to the queue itself: stages waiting for a decision."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [*StageStatus.choices, ("all", "All statuses")]

    def value(self):
        return super().value() or StageStatus.SUBMITTED

    def queryset(self, request, queryset):
        if self.value() == "all":
            return queryset
        return queryset.filter(status=self.value())

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {"selected": self.value() == str(lookup), "display": title,
                   "query_string": changelist.get_query_string({self.parameter_name: lookup})}


class AgeFilter(admin.SimpleListFilter):
    title = "age"
    parameter_name = "age"

    def lookups(self, request, model_admin):
        return [("under1d", "Submitted under a day ago"), ("1to3d", "1 to 3 days ago"),
                ("over3d", "Over 3 days ago")]

    def queryset(self, request, queryset):
        day, three = (timezone.now() - timedelta(days=n) for n in (1, 3))
        buckets = {"under1d": Q(submitted_at__gt=day),
                   "1to3d": Q(submitted_at__gt=three, submitted_at__lte=day),
                   "over3d": Q(submitted_at__lte=three)}
        return queryset.filter(buckets[self.value()]) if self.value() in buckets else queryset


def _answer_rows(stage: ReviewStage, changed: set[str]) -> list[dict]:
    return [{"key": key, "label": label, "values": values, "changed": key in changed,
             "requested": stage.requested_changes.get(key, "")}
            for key, label, values in answer_rows(stage.kind, stage.answers)]


class ReviewStageAdmin(admin.ModelAdmin):
    list_display = ["workspace", "organization", "kind", "status", "version", "submitted_at",
                    "submitted_by", "decided_by"]
    list_filter = ["kind", QueueStatusFilter, AgeFilter]
    search_fields = ["review__workspace__name", "review__workspace__organization__name"]
    list_select_related = ["review__workspace__organization", "submitted_by", "decided_by"]
    ordering = ["submitted_at", "id"]

    @admin.display(ordering="review__workspace__name")
    def workspace(self, obj) -> str:
        return obj.review.workspace.name

    @admin.display(ordering="review__workspace__organization__name")
    def organization(self, obj) -> str:
        return obj.review.workspace.organization.name

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        return [path("<int:pk>/screenshot/", self.admin_site.admin_view(self.screenshot),
                     name="onboarding_reviewstage_screenshot"),
                path("<int:pk>/evidence-file/", self.admin_site.admin_view(self.screenshot),
                     {"field": "attachment"}, name="onboarding_reviewstage_attachment"),
                *super().get_urls()]

    def screenshot(self, request, pk: int, field: str = "screenshot"):
        stage = ReviewStage.objects.filter(pk=pk).first()
        if stage is None or not self.has_view_permission(request, stage) \
                or not getattr(stage, field):
            raise Http404("No such file")
        return screenshot_response(stage, field)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        stage = (ReviewStage.objects.select_related(
            "review__workspace__organization", "submitted_by", "decided_by")
            .filter(pk=object_id).first())
        if stage is None or not self.has_view_permission(request, stage):
            raise Http404("No such stage")
        form = DecisionForm(request.POST if request.method == "POST" else None, stage=stage,
                            initial={"version": stage.version})
        status = 200
        if request.method == "POST":
            if not self.has_change_permission(request, stage):
                raise PermissionDenied
            if form.is_valid():
                approve = form.cleaned_data["decision"] == "approve"
                try:
                    services.decide_review_stage(
                        reviewer=request.user, stage_id=stage.pk, approve=approve,
                        version=form.cleaned_data["version"], notes=form.cleaned_data["notes"],
                        changes=None if approve else form.changes())
                except (ValidationError, PermissionDenied) as error:
                    text = " ".join(getattr(error, "messages", [str(error)]))
                    if not request.user.has_second_factor:  # link to where it is done
                        text = format_html('{} <a href="{}">Turn it on now</a>.', text,
                                           reverse("mfa_index"))
                    self.message_user(request, text, messages.ERROR)
                    status = 409 if isinstance(error, ReviewConflict) else 400
                else:
                    verb = "Approved" if approve else "Requested changes to"
                    self.message_user(request, f"{verb} the {stage.get_kind_display().lower()} "
                                               f"of {stage.review.workspace}.", messages.SUCCESS)
                    return HttpResponseRedirect(reverse("admin:onboarding_reviewstage_changelist"))
            else:
                status = 400
        return self._review_page(request, stage, form, status)

    def _review_page(self, request, stage: ReviewStage, form, status: int):
        diff = stage_diff(stage)
        changed = {row["key"] for row in diff}
        workspace = stage.review.workspace
        profile = (BillingProfile.objects.filter(organization=workspace.organization).first()
                   if stage.kind == "billing" else None)
        return TemplateResponse(request, "admin/onboarding/review_stage.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta,
            "title": f"{stage.get_kind_display()} · {workspace} ({workspace.organization})",
            "stage": stage, "workspace": workspace, "form": form, "diff": diff,
            "answers": _answer_rows(stage, changed), "changed": changed,
            "evidence": [{**check, "changed": check["key"] in changed}
                         for check in stage.evidence],
            "screenshot_changed": "screenshot" in changed, "profile": profile,
            "decisions": [{"decision": d, "changes": [(item_label(k), reason) for k, reason
                                                      in d.requested_changes.items()]}
                          for d in StageDecision.objects.filter(stage=stage)
                          .select_related("reviewer")],
            "can_decide": stage.status == StageStatus.SUBMITTED
            and self.has_change_permission(request, stage),
            "item_labels": {key: item_label(key) for key in stage.requested_changes},
        }, status=status)
