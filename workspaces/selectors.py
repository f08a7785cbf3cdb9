from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.db.models import Exists, OuterRef, Prefetch

from accounts.access import (
    AccessFacts,
    InvitationFact,
    JoinableFact,
    JoinRequestFact,
    OrganizationFact,
    WorkspaceFact,
)
from accounts.models import second_factors
from workspaces.models import (
    Invitation,
    JoinRequest,
    Membership,
    Workspace,
    WorkspaceUserObjectPermission,
)
from workspaces.roles import ACCESS_WORKSPACE, Role, roles_in_workspace
from workspaces.services.join_requests import joinable_organizations


def access_facts(user) -> AccessFacts:
    """Everything /access/ says about one user, in a fixed number of queries."""
    emails = {e.email.lower(): e.verified for e in EmailAddress.objects.filter(user=user)}
    verified = {e for e, ok in emails.items() if ok}
    email_verified = emails.get(user.email.lower(), False)
    # A subquery, not exclude() across the relation: that would also hide organizations
    # the user once left.
    member_of = Membership.objects.active().filter(user=user).values("organization")
    invitations = (
        Invitation.objects.pending().filter(email__in=verified)
        .exclude(organization__in=member_of)
        .select_related("organization", "invited_by").order_by("created_at")
    ) if verified else []
    owners = Membership.objects.active().with_role(Role.OWNER).select_related("user")
    memberships = list(
        Membership.objects.active().filter(user=user).select_related("organization")
        .prefetch_related(Prefetch("organization__memberships", queryset=owners,
                                   to_attr="owners"))
        .order_by("organization__name")
    )
    visible = Workspace.objects.visible_to(user).order_by("name")
    by_org: dict[int, list[WorkspaceFact]] = {}
    for workspace in visible.only("name", "slug", "organization_id", "created_at"):
        by_org.setdefault(workspace.organization_id, []).append(
            WorkspaceFact(workspace.name, workspace.slug, workspace.created_at))
    join_requests = (JoinRequest.objects.pending().filter(user=user)
                     .select_related("organization")
                     .prefetch_related(Prefetch("organization__memberships", queryset=owners,
                                                to_attr="owners")))
    # Also for people who made their own organization: their company's may exist too.
    joinable = (joinable_organizations(user, verified_emails=verified).order_by("name")
                if verified else [])
    return AccessFacts(
        email=user.email,
        email_verified=email_verified,
        invitations=tuple(
            InvitationFact(i.pk, i.organization.name, tuple(i.role_labels),
                           i.invited_by.display_name) for i in invitations),
        join_requests=tuple(
            JoinRequestFact(r.pk, r.organization.name,
                            tuple(o.user.display_name for o in r.organization.owners),
                            r.created_at) for r in join_requests),
        organizations=tuple(
            OrganizationFact(m.organization.name, m.organization.slug, tuple(m.role_labels),
                             tuple(by_org.get(m.organization_id, ())),
                             m.can("workspaces.manage"), m.joined_at,
                             tuple(o.user.display_name for o in m.organization.owners))
            for m in memberships),
        joinable=tuple(JoinableFact(o.pk, o.name) for o in joinable),
    )


def access_facts_for(request) -> AccessFacts:
    """access_facts of the signed-in user, loaded once per request (page and banner)."""
    if getattr(request, "_access_facts", None) is None:
        request._access_facts = access_facts(request.user)
    return request._access_facts


def members_of(organization):
    """Active members with their user, MFA state and workspace grants (three queries)."""
    grants = WorkspaceUserObjectPermission.objects.select_related("content_object",
                                                                  "permission")
    return (Membership.objects.for_organization(organization)
            .select_related("user").annotate(has_mfa=Exists(second_factors().filter(user=OuterRef("user"))))
            .prefetch_related(Prefetch("user__workspaceuserobjectpermission_set",
                                       queryset=grants.filter(
                                           content_object__organization=organization),
                                       to_attr="grants"))
            .order_by("user__full_name", "user__email"))


def members_without_second_factor(organization) -> list[Membership]:
    """Members with neither an authenticator app nor a security key (as
    User.has_second_factor counts them), at most 20 of them named."""
    return list(Membership.objects.for_organization(organization)
                .filter(~Exists(second_factors().filter(user=OuterRef("user")))).select_related("user")
                .order_by("user__full_name", "user__email")[:20])


def holders_of(organization, roles) -> list[Membership]:
    """Members holding any of these roles, for naming who can do something."""
    return list(Membership.objects.for_organization(organization)
                .filter(roles__overlap=list(roles)).select_related("user")
                .order_by("user__full_name")[:5])


@dataclass(frozen=True)
class WorkspaceAccess:
    workspace: Workspace
    roles: tuple[str, ...] | None  # None: no access
    granted: bool  # roles granted for this workspace, not the organization's

    @property
    def role_labels(self) -> list[str]:
        return [Role(r).label for r in self.roles or ()]

    @property
    def choice(self) -> str:
        """The value the per-workspace select shows (forms.WorkspaceRolesForm)."""
        if self.roles is None:
            return "none"
        return self.roles[0] if self.granted else "organization"


def workspace_access(member, workspaces) -> list[WorkspaceAccess]:
    """A member's roles in each workspace, from the grants members_of prefetched."""
    perms: dict[int, set[str]] = {}
    for row in member.user.grants:
        perms.setdefault(row.content_object_id, set()).add(row.permission.codename)
    access = []
    for workspace in workspaces:
        here = perms.get(workspace.pk, set())
        access.append(WorkspaceAccess(
            workspace, roles_in_workspace(member.roles, member.restricted, here),
            granted=bool(here - {ACCESS_WORKSPACE})))
    return access


def granted_summary(member) -> list[WorkspaceAccess]:
    """Only the workspaces where a member's roles differ from the organization's."""
    workspaces = {row.content_object for row in member.user.grants}
    return [a for a in workspace_access(member, sorted(workspaces, key=lambda w: w.name))
            if a.granted]
