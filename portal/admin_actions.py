"""Admin actions that ask platform staff for a reason before calling a service."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
                             help_text="Kept in the audit log.")


def with_reason(modeladmin, request, queryset, *, action: str, title: str, button: str,
                apply, done: str):
    """Show the reason form; once it is given, call apply(obj, reason) for each selected
    object and say how many succeeded and why the others did not."""
    form = ReasonForm(request.POST if "apply" in request.POST else None)
    if not form.is_valid():
        return TemplateResponse(request, "admin/reason_action.html", {
            **modeladmin.admin_site.each_context(request), "title": title, "form": form,
            "queryset": queryset, "opts": modeladmin.model._meta, "action": action,
            "button": button, "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        })
    count = 0
    for obj in queryset:
        try:
            apply(obj, form.cleaned_data["reason"])
        except ValidationError as error:
            modeladmin.message_user(request, f"{obj}: " + " ".join(error.messages),
                                    messages.ERROR)
        else:
            count += 1
    if count:
        modeladmin.message_user(request, f"{done} {count}.", messages.SUCCESS)
    return None
