"""Views are thin: resolve the scope, bind a form, call one service, redirect or render."""

from allauth.account.adapter import get_adapter
from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from workspaces.forms import (
    ApproveJoinForm,
    DeclineJoinForm,
    InviteForm,
    JoinRequestForm,
    MemberAccessForm,
    MemberRolesForm,
    NameForm,
    WorkspaceRolesForm,
)
from workspaces.models import (
    Invitation,
    JoinRequest,
    Membership,
    Workspace,
)
from workspaces.receivers import SESSION_KEY
from workspaces.roles import CAPABILITY_DESCRIPTIONS, Role
from workspaces.scoping import CapabilityDenied, org_view, render_scoped
from workspaces.selectors import (
    holders_of,
    members_of,
    workspace_access,
)
from workspaces.services.invitations import (
    accept_invitation,
    decline_invitation,
    find_invitation,
    invitation_problem,
    invite_member,
    resend_invitation,
    revoke_invitation,
)
from workspaces.services.join_requests import (
    approve_join_request,
    cancel_join_request,
    decline_join_request,
    joinable_organizations,
    request_to_join,
)
from workspaces.services.members import (
    change_roles,
    leave_organization,
    remove_member,
    restrict_member,
)
from workspaces.services.organizations import create_workspace

WORKSPACES_PER_PAGE = 50


def _submit(form, call):
    """Run a service for a valid form; its ValidationError lands next to the field."""
    if not form.is_valid():
        return None
    try:
        return call(form.cleaned_data)
    except ValidationError as error:
        form.add_error(None, error)
        return None


def _flash_error(request, error: ValidationError) -> None:
    messages.error(request, " ".join(error.messages))


# --- account access ------------------------------------------------------------

# The page itself (/access/) is onboarding's: it draws each workspace's lane.

@require_POST
def access_invitation_accept(request, invitation_id: int):
    get_object_or_404(Invitation.objects.addressed_to(request.user), pk=invitation_id)
    try:
        membership = accept_invitation(actor=request.user, invitation_id=invitation_id)
    except ValidationError as error:
        _flash_error(request, error)
        return redirect("access")
    messages.success(request, f"You joined {membership.organization}.")
    return redirect("organization_home", membership.organization.slug)


@require_POST
def access_invitation_decline(request, invitation_id: int):
    get_object_or_404(Invitation.objects.addressed_to(request.user), pk=invitation_id)
    try:
        invitation = decline_invitation(actor=request.user,
                                        invitation_id=invitation_id)
    except ValidationError as error:
        _flash_error(request, error)
    else:
        messages.info(request, f"You declined the invitation to {invitation.organization}.")
    return redirect("access")


@require_POST
def access_join_request_create(request):
    form = JoinRequestForm(request.POST,
                           organizations=joinable_organizations(request.user))
    join_request = _submit(form, lambda d: request_to_join(
        actor=request.user, organization_id=d["organization"], message=d["message"]))
    if join_request is None:
        for error in form.errors.values():
            messages.error(request, " ".join(error))
    return redirect("access")


@require_POST
def access_join_request_cancel(request, join_request_id: int):
    get_object_or_404(JoinRequest.objects.by_user(request.user), pk=join_request_id)
    try:
        cancel_join_request(actor=request.user, join_request_id=join_request_id)
    except ValidationError as error:
        _flash_error(request, error)
    else:
        messages.info(request, "Your request was cancelled.")
    return redirect("access")


@login_not_required
def invitation(request, token: str):
    """The emailed link. Anyone holding it sees whom it invites; only the invited,
    verified address can take it."""
    found = find_invitation(token)
    user = request.user if request.user.is_authenticated else None
    if found and user and found.status == "accepted" and found.decided_by_id == user.pk:
        # Back from signing up with this link: the invitation was taken on the way.
        return redirect("organization_home", found.organization.slug)
    problem = invitation_problem(found, user)
    if request.method == "POST" and user is not None and problem is None:
        handler = (decline_invitation if request.POST.get("decision") == "decline"
                   else accept_invitation)
        try:
            result = handler(actor=user, invitation_id=found.pk)
        except ValidationError as error:
            problem = error
        else:
            if isinstance(result, Membership):
                messages.success(request, f"You joined {result.organization}.")
                return redirect("organization_home", result.organization.slug)
            messages.info(request, f"You declined the invitation to {found.organization}.")
            return redirect("access")
    if user is None and problem is None:
        # Signing up with the invited address from this link proves the address.
        get_adapter(request).stash_verified_email(request, found.email)
        request.session[SESSION_KEY] = token
    return render(request, "workspaces/invitation.html", {
        "invitation": found, "problem": problem, "next": request.path,
    }, status=404 if found is None else 200)


# --- organization ------------------------------------------------------------------

@org_view()
def organization_home(request):
    # A page at a time: an organization may hold hundreds of workspaces.
    workspaces = Workspace.objects.visible_to(request.user).for_organization(
        request.organization).order_by("name", "pk")
    page = Paginator(workspaces, WORKSPACES_PER_PAGE).get_page(request.GET.get("page"))
    owners = holders_of(request.organization, [Role.OWNER])
    return render_scoped(request, "workspaces/organization_home.html", {
        "workspaces": page.object_list, "page": page, "owners": owners,
    })


@org_view("workspaces.manage")
def workspace_create(request):
    suggestion = "" if request.organization.workspaces.exists() else \
        f"{request.organization.name} integration"
    form = NameForm(request.POST or None, initial={"name": suggestion}, label="Workspace name",
                    help_text="One workspace per integration or app, e.g. “Payouts app”.")
    if request.method == "POST":
        workspace = _submit(form, lambda d: create_workspace(
            actor=request.user, organization=request.organization, name=d["name"]))
        if workspace:
            messages.success(request, f"Workspace {workspace} is created.")
            return redirect("workspace_overview", request.organization.slug, workspace.slug)
    return render_scoped(request, "workspaces/workspace_create.html", {"form": form})


def _grants_owner(request) -> bool:
    """A roles form posting the Owner role: granting it needs a fresh password."""
    posted = request.POST.getlist("roles-roles") + request.POST.getlist("roles")
    return Role.OWNER in posted


@org_view("members.manage")
@reauthentication_required(enabled=_grants_owner, allow_get=True)
def member_detail(request, membership_id: int):
    member = get_object_or_404(
        members_of(request.organization), pk=membership_id)
    roles_form = MemberRolesForm(initial={"roles": member.roles}, prefix="roles")
    access_form = MemberAccessForm(organization=request.organization, prefix="access", initial={
        "everything": not member.restricted,
        "workspaces": [g.content_object for g in member.user.grants],
    })
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "roles":
            roles_form = MemberRolesForm(request.POST, prefix="roles")
            done = _submit(roles_form, lambda d: change_roles(
                actor=request.user, organization=request.organization,
                membership_id=member.pk, roles=d["roles"]))
        elif action == "access":
            access_form = MemberAccessForm(request.POST, organization=request.organization,
                                           prefix="access")
            done = _submit(access_form, lambda d: restrict_member(
                actor=request.user, organization=request.organization,
                membership_id=member.pk, workspaces=access_form.chosen()))
        else:
            raise Http404("Unknown action")
        if done:
            messages.success(request, f"Saved {member.user.display_name}'s access.")
            return redirect("member_detail", request.organization.slug, member.pk)
    return render_scoped(request, "workspaces/member_detail.html", {
        "member": member, "roles_form": roles_form, "access_form": access_form,
        "workspace_access": workspace_access(member, request.organization.workspaces.all()),
        "role_choices": WorkspaceRolesForm.base_fields["role"].choices,
    }, status=400 if request.method == "POST" else 200)


@org_view("members.manage")
@require_POST
def member_remove(request, membership_id: int):
    try:
        member = remove_member(actor=request.user, organization=request.organization,
                               membership_id=membership_id)
    except ValidationError as error:
        _flash_error(request, error)
        return redirect("members", request.organization.slug)
    messages.success(request, f"{member.user.display_name} was removed.")
    return redirect("members", request.organization.slug)


@org_view()
def organization_leave(request):
    if request.method == "POST":
        try:
            leave_organization(actor=request.user, organization=request.organization)
        except ValidationError as error:
            _flash_error(request, error)
        else:
            messages.info(request, f"You left {request.organization}.")
            return redirect("access")
    return render_scoped(request, "workspaces/organization_leave.html", {})


@org_view("members.manage")
@reauthentication_required(enabled=_grants_owner, allow_get=True)
def invitations(request):
    # "Invite a Billing contact" links here with ?role=billing_contact (and ?workspace=
    # <slug> for a grant in one workspace): the form starts with those ticked.
    if InviteForm.ADD_ROW in request.POST:  # "Add a workspace" without JavaScript
        form = InviteForm.with_another_row(request.POST, organization=request.organization)
    else:
        form = InviteForm(request.POST or None, organization=request.organization,
                          initial=InviteForm.initial_from(request.GET))
    if form.is_bound:
        result = _submit(form, lambda d: invite_member(
            actor=request.user, organization=request.organization, email=d["email"],
            roles=d["roles"], workspaces=form.workspaces(),
            workspace_roles=form.workspace_roles()))
        if result:
            invitation, created = result
            if created:
                messages.success(request, f"Invitation sent to {invitation.email}.")
            else:
                messages.info(request, f"{invitation.email} already has an open invitation "
                              f"(sent {invitation.last_sent_at:%d %b}); resend it below.")
            return redirect("invitations", request.organization.slug)
    pending = (Invitation.objects.for_organization(request.organization)
               .filter(status="pending").select_related("invited_by")
               .prefetch_related("workspaces"))
    return render_scoped(request, "workspaces/invitations.html", {
        "form": form, "pending": pending,
    }, status=400 if form.errors else 200)


def _invitation_action(service, done: str):
    @org_view("members.manage")
    @require_POST
    def view(request, invitation_id: int):
        try:
            invitation = service(actor=request.user, organization=request.organization,
                                 invitation_id=invitation_id)
        except ValidationError as error:
            _flash_error(request, error)
        else:
            messages.success(request, done.format(email=invitation.email))
        return redirect("invitations", request.organization.slug)

    return view


invitation_resend = _invitation_action(resend_invitation,
                                       "A new link was sent to {email}.")
invitation_revoke = _invitation_action(revoke_invitation,
                                       "The invitation to {email} was revoked.")


@org_view("members.manage")
def join_requests(request):
    pending = (JoinRequest.objects.for_organization(request.organization).pending()
               .select_related("user"))
    return render_scoped(request, "workspaces/join_requests.html", {
        "pending": pending, "approve_form": ApproveJoinForm(initial={"roles": [Role.DEVELOPER]}),
        "decline_form": DeclineJoinForm(),
    })


@org_view("members.manage")
@require_POST
def join_request_decide(request, join_request_id: int, decision: str):
    join_request = get_object_or_404(
        JoinRequest.objects.for_organization(request.organization).select_related("user"),
        pk=join_request_id)
    if decision == "approve":
        form = ApproveJoinForm(request.POST)
        done = _submit(form, lambda d: approve_join_request(
            actor=request.user, organization=request.organization,
            join_request_id=join_request.pk, roles=d["roles"]))
    else:
        form = DeclineJoinForm(request.POST)
        done = _submit(form, lambda d: decline_join_request(
            actor=request.user, organization=request.organization,
            join_request_id=join_request.pk, reason=d["reason"]))
    if done:
        verb = "approved" if decision == "approve" else "declined"
        messages.success(request, f"{join_request.user.display_name}'s request was {verb}.")
        return redirect("join_requests", request.organization.slug)
    return render_scoped(request, "workspaces/join_request_decide.html", {
        "join_request": join_request, "form": form, "decision": decision,
    }, status=400)


def permission_denied(request, exception=None):
    """403 that says which roles may do it and who holds them."""
    context = {}
    if isinstance(exception, CapabilityDenied):
        organization = exception.membership.organization
        context = {
            "what": CAPABILITY_DESCRIPTIONS.get(exception.capability, exception.capability),
            "roles": [r.label for r in exception.roles],
            "holders": holders_of(organization, exception.roles),
            "organization": organization,
            "members_url": reverse("organization_home", args=[organization.slug]),
        }
    return render(request, "403.html", context, status=403)
