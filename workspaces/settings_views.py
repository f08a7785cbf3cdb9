"""The organization's settings (Owners): today, requiring two-factor authentication."""

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect

from workspaces.forms import OrganizationSettingsForm
from workspaces.scoping import org_view, render_scoped
from workspaces.selectors import members_without_second_factor
from workspaces.services.organizations import set_mfa_requirement


@org_view("members.manage")
@reauthentication_required(allow_get=True)
def organization_settings(request):
    """Reading needs the Owner's session; changing needs their password again."""
    organization = request.organization
    form = OrganizationSettingsForm(request.POST if request.method == "POST" else None,
                                    initial={"require_mfa": organization.require_mfa})
    if request.method == "POST" and form.is_valid():
        try:
            set_mfa_requirement(actor=request.user, organization=organization,
                                required=form.cleaned_data["require_mfa"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Two-factor authentication is now required of every "
                             "member." if form.cleaned_data["require_mfa"] else
                             "Two-factor authentication is no longer required.")
            return redirect("organization_settings", organization.slug)
    return render_scoped(request, "workspaces/organization_settings.html", {
        "form": form, "without_second_factor": members_without_second_factor(organization),
    }, status=400 if form.errors else 200)
