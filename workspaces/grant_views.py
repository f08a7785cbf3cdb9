"""A member's role in one workspace, set from their member page (Owners)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from workspaces.forms import WorkspaceRolesForm
from workspaces.models import Membership
from workspaces.scoping import org_view
from workspaces.services.members import set_workspace_roles


@org_view("members.manage")
@require_POST
def member_workspace_roles(request, membership_id: int):
    member = get_object_or_404(Membership.objects.for_organization(request.organization)
                               .select_related("user"), pk=membership_id)
    form = WorkspaceRolesForm(request.POST, organization=request.organization)
    if not form.is_valid():
        messages.error(request, "Choose a workspace of this organization and a role.")
        return redirect("member_detail", request.organization.slug, member.pk)
    workspace = form.cleaned_data["workspace"]
    try:
        set_workspace_roles(actor=request.user, organization=request.organization,
                            membership_id=member.pk, workspace_id=workspace.pk,
                            roles=form.roles())
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        label = dict(form.fields["role"].choices)[form.cleaned_data["role"]]
        messages.success(request, f"{member.user.display_name} in {workspace.name}: {label}.")
    return redirect("member_detail", request.organization.slug, member.pk)
