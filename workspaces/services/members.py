"""Members of an organization: roles, workspace access, removal, leaving; and the
membership and locking rules that invitations and join requests reuse.

Each service owns its transaction: it locks the row it changes, validates, writes the
change and its audit event together, and sends mail only after commit.
"""


from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from guardian.shortcuts import remove_perm

from audit.models import Action
from audit.services import record
from outbox.services import emit
from workspaces.grants import clear_grants, grant, granted_workspaces
from workspaces.models import Environment, Membership, Organization, Workspace
from workspaces.roles import ACCESS_WORKSPACE, Role


def verified_emails_of(user) -> set[str]:
    return {e.lower() for e in EmailAddress.objects.filter(user=user, verified=True)
            .values_list("email", flat=True)}


def clean_roles(roles) -> list[str]:
    values = list(dict.fromkeys(roles))
    if not values:
        raise ValidationError({"roles": "Choose at least one role."})
    unknown = [r for r in values if r not in Role.values]
    if unknown:
        raise ValidationError({"roles": f"Unknown role: {', '.join(unknown)}."})
    return values


def lock_organization(organization: Organization) -> Organization:
    # Membership changes serialize on the organization row, so two Owners demoting
    # each other at once cannot leave the organization without one.
    return Organization.objects.select_for_update().get(pk=organization.pk)


def _ensure_an_owner_remains(organization: Organization, without: Membership) -> None:
    others = (Membership.objects.for_organization(organization).with_role(Role.OWNER)
              .exclude(pk=without.pk))
    if not others.exists():
        raise ValidationError(
            "This is the organization's last Owner. Make another member an Owner first."
        )


def _set_workspace_access(membership: Membership, workspaces) -> None:
    """None: every workspace with the organization roles; a list: exactly those (each with
    the organization roles). Per-workspace roles are cleared either way."""
    clear_grants(membership.user, Workspace.objects.for_organization(membership.organization))
    membership.restricted = workspaces is not None
    if workspaces is None:
        return
    if [w for w in workspaces if w.organization_id != membership.organization_id]:
        raise ValidationError({"workspaces": "Choose workspaces of this organization."})
    for workspace in workspaces:
        grant(membership.user, workspace)


def join(*, user, organization: Organization, roles, workspaces=None) -> Membership:
    """Create, reactivate or widen a membership: roles and workspace access add up
    (workspaces None means every workspace); joining again never takes access away."""
    workspaces = list(workspaces) if workspaces else None
    membership, created = Membership.objects.select_for_update().get_or_create(
        user=user, organization=organization, defaults={"roles": list(roles)}
    )
    if created or not membership.is_active:
        if not created:
            membership.roles, membership.is_active = list(roles), True
            membership.joined_at = timezone.now()
        _set_workspace_access(membership, workspaces)
        _announce(organization, "member.joined", {"email": user.email,
                                                  "roles": list(membership.roles)})
    else:
        membership.roles = list(dict.fromkeys([*membership.roles, *roles]))
        if membership.restricted and workspaces is None:
            membership.restricted = False
            remove_perm(f"workspaces.{ACCESS_WORKSPACE}", user,
                        Workspace.objects.for_organization(organization))
        elif membership.restricted:
            granted = granted_workspaces(user, organization)
            for workspace in workspaces:
                if workspace not in granted:
                    grant(user, workspace)
    membership.save()
    return membership


def _lock_member(organization: Organization, membership_id: int) -> Membership:
    membership = (Membership.objects.select_for_update().select_related("user")
                  .for_organization(organization).filter(pk=membership_id).first())
    if membership is None:
        raise ValidationError("That person is not a member any more.")
    return membership


@transaction.atomic
def change_roles(*, actor, organization: Organization, membership_id: int, roles) -> Membership:
    """Replace a member's roles; the last Owner keeps the Owner role."""
    roles = clean_roles(roles)
    organization = lock_organization(organization)
    membership = _lock_member(organization, membership_id)
    if membership.has_role(Role.OWNER) and Role.OWNER not in roles:
        _ensure_an_owner_remains(organization, without=membership)
    before = list(membership.roles)
    membership.roles = roles
    membership.save(update_fields=["roles"])
    record(action=Action.ROLES_CHANGED, actor=actor, organization=organization, target=membership,
           details={"email": membership.user.email, "from": before, "to": roles})
    return membership


@transaction.atomic
def restrict_member(*, actor, organization: Organization, membership_id: int,
                    workspaces) -> Membership:
    """Limit a member to some workspaces (a list) or give back all of them (None)."""
    organization = lock_organization(organization)
    membership = _lock_member(organization, membership_id)
    _set_workspace_access(membership, None if workspaces is None else list(workspaces))
    membership.save(update_fields=["restricted"])
    record(action=Action.MEMBER_RESTRICTED, actor=actor, organization=organization,
           target=membership,
           details={"email": membership.user.email,
                    "workspaces": None if workspaces is None else [w.slug for w in workspaces]})
    return membership


def _announce(organization: Organization, event_type: str, data: dict) -> None:
    # Webhook endpoints belong to a workspace and environment: every open one hears it.
    for workspace in organization.workspaces.all():
        for environment in Environment.values:
            if workspace.is_open(environment):
                emit(workspace=workspace, environment=environment, type=event_type,
                     data={"organization": organization.slug, **data})


def _deactivate(membership: Membership, *, left: bool = False) -> None:
    _announce(membership.organization, "member.removed",
              {"email": membership.user.email, "roles": list(membership.roles), "left": left})
    _set_workspace_access(membership, None)
    membership.is_active = False
    membership.restricted = False
    membership.save(update_fields=["is_active", "restricted"])


@transaction.atomic
def remove_member(*, actor, organization: Organization, membership_id: int) -> Membership:
    """Take someone out of the organization; never its last Owner."""
    organization = lock_organization(organization)
    membership = _lock_member(organization, membership_id)
    if membership.has_role(Role.OWNER):
        _ensure_an_owner_remains(organization, without=membership)
    _deactivate(membership)
    record(action=Action.MEMBER_REMOVED, actor=actor, organization=organization, target=membership,
           details={"email": membership.user.email, "roles": membership.roles})
    return membership


@transaction.atomic
def leave_organization(*, actor, organization: Organization) -> Membership:
    """Leave an organization oneself; the last Owner must hand over first."""
    organization = lock_organization(organization)
    membership = (Membership.objects.select_for_update().for_organization(organization)
                  .filter(user=actor).first())
    if membership is None:
        raise ValidationError("You are not a member of this organization.")
    if membership.has_role(Role.OWNER):
        _ensure_an_owner_remains(organization, without=membership)
    _deactivate(membership, left=True)
    record(action=Action.MEMBER_LEFT, actor=actor, organization=organization, target=membership)
    return membership


@transaction.atomic
def set_workspace_roles(*, actor, organization: Organization, membership_id: int,
                        workspace_id: int, roles: list[str] | None) -> Membership:
    """A member's roles in one workspace: a list of roles, None for their organization
    roles, or [] for no access (their membership becomes restricted: workspaces they had
    through their organization roles keep them, new workspaces do not)."""
    organization = lock_organization(organization)
    membership = _lock_member(organization, membership_id)
    workspace = Workspace.objects.for_organization(organization).filter(pk=workspace_id).first()
    if workspace is None:
        raise ValidationError({"workspace": "Choose a workspace of this organization."})
    if membership.has_role(Role.OWNER):
        raise ValidationError({"roles": "Owners have every workspace with their organization "
                                        "roles; change their organization roles first."})
    roles = clean_roles(roles) if roles else roles
    before = granted_workspaces(membership.user, organization)
    if roles == [] and not membership.restricted:
        for other in Workspace.objects.for_organization(organization).exclude(pk=workspace.pk):
            if other not in before:
                grant(membership.user, other)
        membership.restricted = True
        membership.save(update_fields=["restricted"])
    if roles == [] or (roles is None and not membership.restricted):
        clear_grants(membership.user, [workspace])
    else:
        grant(membership.user, workspace, roles)
    record(action=Action.WORKSPACE_ROLES_CHANGED, actor=actor, organization=organization,
           workspace=workspace, target=membership,
           details={"email": membership.user.email, "workspace": workspace.slug,
                    "roles": "organization" if roles is None else roles or "none"})
    return membership
