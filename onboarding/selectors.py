from dataclasses import dataclass, replace
from functools import cache
from urllib.parse import urlencode

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Min, OuterRef, Q
from django.urls import reverse

from accounts.access import AccessFacts, AccessKey, OrganizationFact, access_state
from audit.models import Action, AuditEvent
from onboarding.facts import load_facts, load_facts_of
from onboarding.lanes import Lane, WorkspaceFacts, next_lane
from onboarding.path import (
    AccountMoments,
    OperatorPath,
    PathStep,
    WorkspaceView,
    operator_path,
)
from workspaces.models import Membership, Workspace, WorkspaceUserObjectPermission
from workspaces.roles import Role, roles_in_workspace
from workspaces.scoping import workspace_roles_of
from workspaces.selectors import access_facts_for


@dataclass(frozen=True)
class Banner:
    """The next-lane banner as the template draws it."""

    title: str
    sentence: str
    button: str
    url: str
    method: str
    yours: bool
    context: str  # which workspace (or the account) the step is about
    stages: tuple = ()  # the production review's StageLines, once it started


def workspace_facts(request, workspace: Workspace) -> WorkspaceFacts:
    """Facts of the request's workspace, loaded once per request."""
    cached = getattr(request, "_workspace_facts", None)
    if cached is None or cached[0] != workspace.pk:
        request._workspace_facts = (workspace.pk, load_facts(workspace))
    return request._workspace_facts[1]


def _needs_no_mfa(facts: WorkspaceFacts, roles) -> bool:
    """Whether the lane cannot wait on the viewer's two-factor authentication: only the
    review's audit-ready checks do, for Owners and Technical leads."""
    return not facts.review_stages or dict(facts.review_stages).get("audit") == "approved" \
        or not ({Role.OWNER, Role.TECHNICAL_LEAD} & set(roles or ()))


def _viewer_mfa(user, facts: WorkspaceFacts, roles) -> bool:
    """Whether the viewer's two-factor authentication is on, asked only when the review's
    audit-ready checks could wait on it (one query then)."""
    return _needs_no_mfa(facts, roles) or user.has_second_factor


def step_url(url_name: str, args=(), query=()) -> str:
    """Where a lane's or a path step's button leads, with the initial values its form
    reads."""
    url = reverse(url_name, args=args)
    return f"{url}?{urlencode(query)}" if query else url


def lane_url(lane: Lane) -> str:
    return step_url(lane.url_name, lane.url_args, lane.query)


def _from_lane(lane: Lane, workspace_name: str, path: str = "") -> Banner:
    button, url = lane.button, lane_url(lane)
    if url == path and lane.alternate:
        # The button leads somewhere new: not to the page already shown.
        button, url_name, args = lane.alternate
        url = reverse(url_name, args=args)
    return Banner(lane.title, lane.sentence, button, url, "get", lane.yours,
                  workspace_name, lane.stages)


def banner_for(request) -> Banner:
    """The workspace in the URL decides; on an organization's page its first workspace;
    elsewhere the user's first workspace, or, with none, the account-access state. A
    constant number of queries either way."""
    workspace = getattr(request, "workspace", None)
    if workspace is not None:
        facts, roles = workspace_facts(request, workspace), request.membership.roles_here
        lane = next_lane(facts, roles, _viewer_mfa(request.user, facts, roles))
        return _from_lane(lane, workspace.name, request.path)
    match = getattr(request, "resolver_match", None)
    if match is not None and match.url_name == "access":
        state = access_state(access_facts_for(request))
        if state.key != AccessKey.HAS_WORKSPACES:
            return _from_access(request)
        # The page lists every workspace's path: the banner offers the first one's step
        # that is the viewer's to take, the very button the path shows.
        lines = operator_path_for(request).workspaces
        if lines:
            line = next((w for w in lines if w.now and w.now.state == "current"), lines[0])
            return _from_lane(line.lane, f"{line.organization_name} · {line.workspace_name}",
                              request.path)
    visible = Workspace.objects.visible_to(request.user).select_related("organization")
    organization = getattr(request, "organization", None)
    if organization is not None:
        # An organization's page: its own first workspace, found through the
        # (organization, ...) index, and the member already resolved for the page; never
        # another organization's lane, even when this one has no workspace for them.
        workspace = (visible.filter(organization=organization).order_by("name")
                     .annotate(grants=ArraySubquery(
                         WorkspaceUserObjectPermission.objects.filter(
                             user=request.user, content_object=OuterRef("pk"))
                         .values("permission__codename"))).first())
        if workspace is None:
            return _no_workspace(organization, request.membership)
        # The member's roles in that workspace (its grants came with the row).
        roles = roles_in_workspace(request.membership.roles, request.membership.restricted,
                                   set(workspace.grants)) or ()
        facts = workspace_facts(request, workspace)
        lane = next_lane(facts, roles, _viewer_mfa(request.user, facts, roles))
        return _from_lane(lane, f"{organization.name} · {workspace.name}", request.path)
    workspace = visible.order_by("organization__name", "name").first()
    if workspace is not None:
        roles = (Membership.objects.active().filter(user=request.user,
                                                    organization=workspace.organization_id)
                 .values_list("roles", flat=True).first())
        facts = workspace_facts(request, workspace)
        lane = next_lane(facts, roles, _viewer_mfa(request.user, facts, roles))
        return _from_lane(lane, f"{workspace.organization.name} · {workspace.name}",
                          request.path)
    return _from_access(request)


def _no_workspace(organization, membership) -> Banner:
    """An organization with no workspace the member may open: the access page's own
    "no workspace yet" state for that organization."""
    state = access_state(AccessFacts(
        email="", email_verified=True, organizations=(OrganizationFact(
            organization.name, organization.slug, (), (),
            membership.can("workspaces.manage")),)))
    return Banner(state.headline, state.sentence, state.step.label,
                  reverse(state.step.url_name, args=state.step.args), state.step.method,
                  membership.can("workspaces.manage"), organization.name)


def _from_access(request) -> Banner:
    """On /access/ the banner is the account-access state itself."""
    state = access_state(access_facts_for(request))
    return Banner(state.headline, state.sentence, state.step.label,
                  reverse(state.step.url_name, args=state.step.args), state.step.method,
                  True, "Your account")


# The access page draws this many workspaces' paths (each costs its facts and a dozen
# steps to render); the others are on their organization's home.
PATH_WORKSPACES = 10


def operator_path_for(request) -> OperatorPath:
    """The whole operator path of the signed-in user, loaded once per request in a fixed
    number of queries however many workspaces and members: the access facts, one for the
    account's moments, and, with workspaces, four for them all and their grants."""
    cached = getattr(request, "_operator_path", None)
    if cached is not None:
        return cached
    user, facts = request.user, access_facts_for(request)
    moments = AuditEvent.objects.filter(actor=user).aggregate(
        signed_in_at=Min("occurred_at", filter=Q(action=Action.SIGNED_IN)),
        email_verified_at=Min("occurred_at", filter=Q(action=Action.EMAIL_VERIFIED)))
    views, more = [], False
    if any(o.workspaces for o in facts.organizations):
        workspaces = list(Workspace.objects.visible_to(user).select_related("organization")
                          .order_by("organization__name", "name")[:PATH_WORKSPACES + 1])
        more, workspaces = len(workspaces) > PATH_WORKSPACES, workspaces[:PATH_WORKSPACES]
        roles = workspace_roles_of(user, Membership.objects.active().filter(user=user),
                                   workspaces)
        loaded = load_facts_of([w for w in workspaces if w.pk in roles])
        has_mfa = cache(lambda: user.has_second_factor)  # asked at most once
        for workspace in workspaces:
            if workspace.pk in loaded:
                here, facts_here = roles[workspace.pk], loaded[workspace.pk]
                views.append(WorkspaceView(facts_here, here, _needs_no_mfa(
                    facts_here, here) or has_mfa()))
    path = operator_path(facts, AccountMoments(
        moments["signed_in_at"] or user.date_joined, moments["email_verified_at"]),
        tuple(views))
    request._operator_path = replace(
        path, account=_with_urls(path.account), more=more,
        workspaces=tuple(replace(w, steps=_with_urls(w.steps)) for w in path.workspaces))
    return request._operator_path


def _with_urls(steps: tuple[PathStep, ...]) -> tuple[PathStep, ...]:
    """The current steps' button addresses, as the banner builds them."""
    return tuple(replace(step, url=step_url(step.url_name, step.url_args, step.query))
                 if step.state == "current" else step for step in steps)


def review_queue() -> dict[str, int]:
    """What waits for platform reviewers, for the admin index (two queries)."""
    from onboarding.models import ReviewStage, SandboxRequest, StageStatus

    return {"sandbox_requests": SandboxRequest.objects.pending().count(),
            "review_stages": ReviewStage.objects.filter(status=StageStatus.SUBMITTED).count()}
