"""Per-workspace roles, written as django-guardian object permissions on workspaces.

A member's organization roles apply in every workspace unless their membership is
restricted. A grant of roles on one workspace (`role_<role>` permissions) replaces them
there; `access_workspace` lets a restricted member in with their organization roles.
Reading them is the tenancy resolver's job (workspaces/scoping.py); writing them is this
module's, for the member services (workspaces/services/members.py).
"""

from guardian.shortcuts import assign_perm, remove_perm

from workspaces.models import Organization, Workspace
from workspaces.roles import (
    ACCESS_WORKSPACE,
    WORKSPACE_PERMISSIONS,
    role_permission,
)


def _perm(codename: str) -> str:
    return f"workspaces.{codename}"


def clear_grants(user, workspaces) -> None:
    """Take every grant of the user on these workspaces away."""
    workspaces = Workspace.objects.filter(pk__in=[w.pk for w in workspaces])
    for codename in WORKSPACE_PERMISSIONS:
        remove_perm(_perm(codename), user, workspaces)


def grant(user, workspace: Workspace, roles=None) -> None:
    """Replace the user's grants on one workspace: these roles, or (None) access with
    their organization roles."""
    clear_grants(user, [workspace])
    for codename in [role_permission(r) for r in roles] if roles else [ACCESS_WORKSPACE]:
        assign_perm(_perm(codename), user, workspace)


def granted_workspaces(user, organization: Organization) -> dict[Workspace, set[str]]:
    """The user's grants on each workspace of an organization, as codenames."""
    from guardian.utils import get_user_obj_perms_model

    grants: dict[Workspace, set[str]] = {}
    for row in get_user_obj_perms_model(Workspace).objects.filter(
            user=user, content_object__organization=organization).select_related(
            "content_object", "permission"):
        grants.setdefault(row.content_object, set()).add(row.permission.codename)
    return grants
