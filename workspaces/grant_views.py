"""The members page (filtered, paginated) and a member's role in one workspace (Owners)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from workspaces.forms import WorkspaceRolesForm
from workspaces.models import Membership
from workspaces.roles import Role
from workspaces.scoping import org_view, render_scoped
from workspaces.selectors import granted_summary, members_of
from workspaces.services.members import set_workspace_roles

MEMBERS_PER_PAGE = 50


@org_view("members.manage")
def members(request):
    role, query = request.GET.get("role", ""), request.GET.get("q", "").strip()[:100]
    listed = members_of(request.organization)
    if role in Role.values:
        listed = listed.filter(roles__contains=[role])
    if query:
        listed = listed.filter(Q(user__full_name__icontains=query)
                               | Q(user__email__icontains=query))
    page = Paginator(listed, MEMBERS_PER_PAGE).get_page(request.GET.get("page"))
    filters = request.GET.copy()
    filters.pop("page", None)
    return render_scoped(request, "workspaces/members.html", {
        "members": [(m, granted_summary(m)) for m in page], "page": page,
        "role": role, "query": query, "roles": list(Role), "filters": filters.urlencode(),
    })


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
