"""Members of an organization: roles, workspace access, removal, leaving; and the
membership and locking rules that invitations and join requests reuse.

Each service owns its transaction: it locks the row it changes, validates, writes the
change and its audit event together, and sends mail only after commit.
"""


from allauth.account.models import EmailAddress
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.models import Action
from audit.services import record
from workspaces.models import (
    ACCESS_WORKSPACE,
    Membership,
    Organization,
    WorkspaceUserObjectPermission,
)
from workspaces.roles import Role


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
    """None: every workspace of the organization; a list: exactly those."""
    grants = WorkspaceUserObjectPermission.objects.filter(
        user=membership.user, content_object__organization=membership.organization
    )
    grants.delete()
    membership.restricted = workspaces is not None
    if workspaces is None:
        return
    foreign = [w for w in workspaces if w.organization_id != membership.organization_id]
    if foreign:
        raise ValidationError({"workspaces": "Choose workspaces of this organization."})
    permission = Permission.objects.get(codename=ACCESS_WORKSPACE,
                                        content_type__app_label="workspaces")
    WorkspaceUserObjectPermission.objects.bulk_create(
        WorkspaceUserObjectPermission(user=membership.user, permission=permission,
                                      content_object=w)
        for w in workspaces
    )


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
    else:
        membership.roles = list(dict.fromkeys([*membership.roles, *roles]))
        if membership.restricted:
            granted = [g.content_object for g in WorkspaceUserObjectPermission.objects.filter(
                user=user, content_object__organization=organization,
            ).select_related("content_object")]
            _set_workspace_access(
                membership, None if workspaces is None else list(dict.fromkeys(
                    [*granted, *workspaces])))
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


def _deactivate(membership: Membership) -> None:
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
    _deactivate(membership)
    record(action=Action.MEMBER_LEFT, actor=actor, organization=organization, target=membership)
    return membership
