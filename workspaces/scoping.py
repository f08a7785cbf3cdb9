"""Tenancy, enforced once: the URL names the scope, one resolver checks it.

A user outside the organization gets 404 (never 403, never data); a member who lacks
a capability gets 403 with a page naming who can do it. Sign-in itself is required
before any of this runs, by LoginRequiredMiddleware (portal/settings.py).
"""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.utils.functional import SimpleLazyObject

from workspaces.models import Environment, JoinRequest, Membership, Workspace
from workspaces.roles import roles_with


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
        return Membership.objects.active().select_related("organization").get(
            user=request.user, organization__slug=org_slug
        )
    except Membership.DoesNotExist:
        raise Http404("No such organization") from None


def org_view(capability: str | None = None):
    """Resolve /o/<org_slug>/ into request.organization and request.membership."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, org_slug, *args, **kwargs):
            request.membership = _resolve_membership(request, org_slug)
            request.organization = request.membership.organization
            if capability:
                require(request, capability)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def workspace_view(capability: str | None = None):
    """Resolve /o/<org_slug>/w/<ws_slug>/ through Workspace.objects.visible_to(user)."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, org_slug, ws_slug, *args, **kwargs):
            try:
                workspace = Workspace.objects.visible_to(request.user).select_related(
                    "organization"
                ).get(organization__slug=org_slug, slug=ws_slug)
            except Workspace.DoesNotExist:
                raise Http404("No such workspace") from None
            request.workspace = workspace
            request.organization = workspace.organization
            request.membership = Membership.objects.active().get(
                user=request.user, organization=workspace.organization
            )
            request.membership.organization = workspace.organization
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
