"""Tenancy, enforced once: the URL names the scope, one resolver checks it.

A user outside the organization gets 404 (never 403, never data); a member who lacks
a capability gets 403 with a page naming who can do it. Sign-in itself is required
before any of this runs, by LoginRequiredMiddleware (portal/settings.py).
"""

from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Subquery
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.functional import SimpleLazyObject
from guardian.core import ObjectPermissionChecker
from guardian.utils import get_user_obj_perms_model

from accounts.models import second_factors
from workspaces.models import Environment, JoinRequest, Membership, Workspace
from workspaces.roles import (
    ROLE_PERMISSIONS,
    capabilities_of,
    roles_in_workspace,
    roles_with,
)


class CapabilityDenied(PermissionDenied):
    """A member tried something their roles do not allow."""

    def __init__(self, capability: str, membership: Membership):
        super().__init__(capability)
        self.capability = capability
        self.membership = membership
        self.roles = roles_with(capability)


def require(request, capability: str) -> None:
    """Raise CapabilityDenied unless the resolved member may do this."""
    if not request.membership.can(capability):
        raise CapabilityDenied(capability, request.membership)


def _resolve_membership(request, org_slug: str) -> Membership:
    try:
        return Membership.objects.active().select_related("organization").annotate(
            has_second_factor=Exists(second_factors().filter(user=OuterRef("user")))).get(
            user=request.user, organization__slug=org_slug
        )
    except Membership.DoesNotExist:
        raise Http404("No such organization") from None


def second_factor_missing(request):
    """A redirect to the two-factor setup when the resolved organization requires it and
    the member has none; None otherwise. Checked once, where the scope is resolved."""
    if not request.organization.require_mfa or request.membership.has_second_factor:
        return None
    messages.warning(request, f"{request.organization.name} requires two-factor "
                              "authentication. Set up an authenticator app or a security key "
                              "to open its pages.")
    return redirect("mfa_index")


def org_view(capability: str | None = None):
    """Resolve /o/<org_slug>/ into request.organization and request.membership."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, org_slug, *args, **kwargs):
            request.membership = _resolve_membership(request, org_slug)
            request.organization = request.membership.organization
            if (missing := second_factor_missing(request)) is not None:
                return missing
            if capability:
                require(request, capability)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


_MEMBERSHIP_FIELDS = ("id", "roles", "restricted", "is_active", "joined_at")


def resolve_workspace(user, org_slug: str, ws_slug: str) -> tuple[Workspace, Membership]:
    """The workspace a URL names, if the user may open it (else 404), and their membership
    answering `can()` with their roles in that workspace, from their guardian grants.
    Two queries: the workspace with the membership, and the grants."""
    mine = Membership.objects.active().filter(user=user, organization=OuterRef("organization"))
    try:
        workspace = (Workspace.objects.visible_to(user).select_related("organization")
                     .annotate(**{f"membership_{f}": Subquery(mine.values(f))
                                  for f in _MEMBERSHIP_FIELDS},
                               viewer_has_second_factor=Exists(
                                   second_factors().filter(user=user)))
                     .get(organization__slug=org_slug, slug=ws_slug))
    except Workspace.DoesNotExist:
        raise Http404("No such workspace") from None
    membership = Membership.from_db(
        Membership.objects.db, ["user_id", "organization_id", *_MEMBERSHIP_FIELDS],
        [user.pk, workspace.organization_id,
         *(getattr(workspace, f"membership_{f}") for f in _MEMBERSHIP_FIELDS)])
    membership.user, membership.organization = user, workspace.organization
    membership.has_second_factor = workspace.viewer_has_second_factor
    perms = ObjectPermissionChecker(user).get_user_perms(workspace)
    membership.workspace_roles = roles_in_workspace(membership.roles, membership.restricted,
                                                    perms)
    if membership.workspace_roles is None:
        raise Http404("No such workspace")
    return workspace, membership


def _grants(user, workspaces) -> dict[int, set[str]]:
    if user.is_superuser:
        # Guardian's checker answers "every permission" for a superuser; what counts here
        # is what was granted to them as a member.
        model = get_user_obj_perms_model(Workspace)
        grants: dict[int, set[str]] = {}
        for pk, codename in model.objects.filter(
                user=user, content_object__in=workspaces).values_list(
                "content_object_id", "permission__codename"):
            grants.setdefault(pk, set()).add(codename)
        return grants
    checker = ObjectPermissionChecker(user)
    checker.prefetch_perms(workspaces)
    return {w.pk: set(checker.get_perms(w)) for w in workspaces}


def workspace_roles_of(user, memberships, workspaces) -> dict[int, tuple[str, ...]]:
    """Roles of one user in each of these workspaces they may open (others left out), in
    a fixed number of queries: guardian's checker prefetches the grants of all of them."""
    by_org = {m.organization_id: m for m in memberships}
    workspaces = [w for w in workspaces if w.organization_id in by_org]
    grants = _grants(user, workspaces) if workspaces else {}
    roles = {}
    for workspace in workspaces:
        membership = by_org[workspace.organization_id]
        here = roles_in_workspace(membership.roles, membership.restricted,
                                  grants.get(workspace.pk, ()))
        if here is not None:
            roles[workspace.pk] = here
    return roles


def grants_on(workspace: Workspace) -> dict[int, set[str]]:
    """Every user's grants on one workspace, as codenames by user id (one query)."""
    grants: dict[int, set[str]] = {}
    for user_id, codename in get_user_obj_perms_model(Workspace).objects.filter(
            content_object=workspace).values_list("user_id", "permission__codename"):
        grants.setdefault(user_id, set()).add(codename)
    return grants


def member_roles_in(workspace: Workspace) -> dict[int, tuple[str, ...]]:
    """Roles of each active member who may open the workspace, by user id (their grants
    there, else their organization roles), in two queries whatever the number of members."""
    grants = grants_on(workspace)
    roles = {}
    for user_id, organization_roles, restricted in (
            Membership.objects.for_organization(workspace.organization_id)
            .values_list("user_id", "roles", "restricted")):
        here = roles_in_workspace(organization_roles, restricted, grants.get(user_id, ()))
        if here is not None:
            roles[user_id] = here
    return roles


def workspaces_where(request, capability: str) -> list[int] | None:
    """Ids of the resolved organization's workspaces where the member holds a capability
    (their grants there, else their organization roles); None when they hold it for the
    whole organization, which also covers events that name no workspace."""
    membership = request.membership
    if membership.can(capability) and not membership.restricted and not _has_role_grants(
            request):
        return None
    workspaces = Workspace.objects.for_organization(request.organization).only(
        "pk", "organization_id")
    roles = workspace_roles_of(request.user, [membership], workspaces)
    return [pk for pk, here in roles.items() if capability in capabilities_of(here)]


def _has_role_grants(request) -> bool:
    model = get_user_obj_perms_model(Workspace)
    return model.objects.filter(user=request.user,
                                content_object__organization=request.organization,
                                permission__codename__in=ROLE_PERMISSIONS).exists()


def require_somewhere(request, capability: str) -> list[int] | None:
    """workspaces_where, refusing (403) a member who holds the capability nowhere."""
    where = workspaces_where(request, capability)
    if where == []:
        raise CapabilityDenied(capability, request.membership)
    return where


def workspace_view(capability: str | None = None):
    """Resolve /o/<org_slug>/w/<ws_slug>/ through resolve_workspace."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, org_slug, ws_slug, *args, **kwargs):
            request.workspace, request.membership = resolve_workspace(
                request.user, org_slug, ws_slug)
            request.organization = request.workspace.organization
            if (missing := second_factor_missing(request)) is not None:
                return missing
            if capability:
                require(request, capability)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def resolve_environment(request, environment: str) -> str:
    """A `<environment>` URL segment: sandbox or production, else 404. The stage band
    follows the environment a page shows."""
    if environment not in Environment.values:
        raise Http404("Unknown environment")
    request.environment = environment
    return environment


def in_production(request) -> bool:
    """For `reauthentication_required(enabled=...)`: the URL names the production
    environment (live keys, live endpoints need a fresh password)."""
    return request.resolver_match.kwargs.get("environment") == Environment.PRODUCTION


def _pending_join_requests(request):
    # Lazy, so that only a page whose navigation shows the badge (a member who manages
    # members) pays for the count, once.
    return SimpleLazyObject(
        lambda: JoinRequest.objects.for_organization(request.organization).pending().count())


def render_scoped(request, template: str, context: dict, status: int = 200):
    """Render a page of the resolved scope (organization or workspace): the one way, so
    every scoped page has its organization, member, workspace and navigation badge."""
    return render(request, template, {
        "organization": request.organization, "membership": request.membership,
        "workspace": getattr(request, "workspace", None),
        "pending_join_requests": _pending_join_requests(request), **context,
    }, status=status)


def environment_view(verb: str):
    """Resolve /o/<org>/w/<ws>/.../<environment>/... and require `<environment>.<verb>`
    (e.g. sandbox.manage): outsiders get 404, members without it 403."""

    def decorator(view):
        @workspace_view()
        @wraps(view)
        def wrapper(request, environment, *args, **kwargs):
            environment = resolve_environment(request, environment)
            require(request, f"{environment}.{verb}")
            return view(request, environment, *args, **kwargs)

        return wrapper

    return decorator
