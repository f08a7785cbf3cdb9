"""Every write about organizations, workspaces and people.

Each service owns its transaction: it locks the row it changes, validates, writes the
change and its audit event together, and sends mail only after commit (the Celery
mail backend enqueues on commit).
"""

import hashlib
import secrets
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from accounts.mail import send_templated
from audit.models import Action
from audit.services import record
from workspaces.domains import domain_of
from workspaces.models import (
    ACCESS_WORKSPACE,
    BillingProfile,
    DomainStatus,
    Invitation,
    InvitationStatus,
    JoinRequest,
    JoinRequestStatus,
    Membership,
    Organization,
    Workspace,
    WorkspaceUserObjectPermission,
)
from workspaces.roles import Role

INVITATION_LIFETIME = timedelta(days=7)
RESERVED_SLUGS = frozenset({"new", "admin", "api", "static", "settings"})


class InvitationError(ValidationError):
    """An invitation link that cannot be used; `code` says why."""


# --- helpers ------------------------------------------------------------------

def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _unique_slug(name: str, taken) -> str:
    base = slugify(name)[:50].strip("-") or "org"
    if base in RESERVED_SLUGS:
        base = f"{base}-1"
    slug, n = base, 1
    while taken(slug):
        n += 1
        slug = f"{base}-{n}"
    return slug


def _verified_emails(user) -> set[str]:
    return {e.lower() for e in EmailAddress.objects.filter(user=user, verified=True)
            .values_list("email", flat=True)}


def _clean_roles(roles) -> list[str]:
    values = list(dict.fromkeys(roles))
    if not values:
        raise ValidationError({"roles": "Choose at least one role."})
    unknown = [r for r in values if r not in Role.values]
    if unknown:
        raise ValidationError({"roles": f"Unknown role: {', '.join(unknown)}."})
    return values


def _lock_organization(organization: Organization) -> Organization:
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


def _join(*, user, organization: Organization, roles, workspaces=None) -> Membership:
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


# --- organizations and workspaces --------------------------------------------

@transaction.atomic
def create_organization(*, actor, name: str) -> Organization:
    """Create an organization whose first Owner is the actor."""
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": "Enter the organization's name."})
    slug = _unique_slug(name, lambda s: Organization.objects.filter(slug=s).exists())
    organization = Organization.objects.create(name=name, slug=slug, created_by=actor)
    Membership.objects.create(user=actor, organization=organization, roles=[Role.OWNER])
    record(action=Action.ORGANIZATION_CREATED, actor=actor, organization=organization,
           target=organization, details={"name": name})
    return organization


@transaction.atomic
def create_workspace(*, actor, organization: Organization, name: str) -> Workspace:
    """Create a workspace in an organization; its slug is unique there and never changes."""
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": "Enter the workspace's name."})
    organization = _lock_organization(organization)
    slug = _unique_slug(name, lambda s: Workspace.objects.filter(
        organization=organization, slug=s).exists())
    workspace = Workspace.objects.create(organization=organization, name=name, slug=slug,
                                         created_by=actor)
    record(action=Action.WORKSPACE_CREATED, actor=actor, workspace=workspace, target=workspace,
           details={"name": name})
    return workspace


@transaction.atomic
def update_billing_profile(*, actor, organization: Organization, data: dict) -> BillingProfile:
    """Save the organization's billing profile; fields may be filled over time."""
    profile, _ = BillingProfile.objects.select_for_update().get_or_create(
        organization=organization)
    changed = [f for f, v in data.items() if getattr(profile, f) != v]
    for field, value in data.items():
        setattr(profile, field, value)
    profile.updated_by = actor
    profile.full_clean()
    profile.save()
    record(action=Action.BILLING_PROFILE_UPDATED, actor=actor, organization=organization,
           target=profile, details={"fields": sorted(changed)})
    return profile


# --- invitations ----------------------------------------------------------------

def _send_invitation(invitation: Invitation, token: str) -> None:
    url = settings.SITE_URL + reverse("invitation", args=[token])
    send_templated("workspaces/email/invitation", [invitation.email], {
        "invitation": invitation, "url": url, "inviter": invitation.invited_by,
        "roles": ", ".join(invitation.role_labels), "expires_at": invitation.expires_at,
    })


@transaction.atomic
def invite_member(*, actor, organization: Organization, email: str, roles,
                  workspaces=()) -> tuple[Invitation, bool]:
    """Invite an address with roles; an open invitation to the same address is returned
    as it is (created=False) rather than duplicated."""
    email = email.strip().lower()
    roles = _clean_roles(roles)
    organization = _lock_organization(organization)
    if Membership.objects.for_organization(organization).filter(
            user__email__iexact=email).exists():
        raise ValidationError({"email": f"{email} is already a member of {organization}."})
    existing = Invitation.objects.filter(organization=organization, email=email,
                                         status=InvitationStatus.PENDING).first()
    if existing and not existing.is_expired:
        return existing, False
    if existing:  # an expired one makes room for the new one
        existing.status = InvitationStatus.REVOKED
        existing.save(update_fields=["status"])
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    invitation = Invitation.objects.create(
        organization=organization, email=email, roles=roles, token_hash=hash_token(token),
        invited_by=actor, expires_at=now + INVITATION_LIFETIME, last_sent_at=now,
    )
    workspaces = list(workspaces)
    if [w for w in workspaces if w.organization_id != organization.pk]:
        raise ValidationError({"workspaces": "Choose workspaces of this organization."})
    invitation.workspaces.set(workspaces)
    record(action=Action.MEMBER_INVITED, actor=actor, organization=organization, target=invitation,
           details={"email": email, "roles": roles,
                    "workspaces": [w.slug for w in workspaces]})
    _send_invitation(invitation, token)
    return invitation, True


def _lock_pending_invitation(organization: Organization, invitation_id: int) -> Invitation:
    invitation = Invitation.objects.select_for_update().filter(
        organization=organization, pk=invitation_id).first()
    if invitation is None:
        raise ValidationError("That invitation does not exist.")
    if invitation.status != InvitationStatus.PENDING:
        raise ValidationError(f"That invitation was already {invitation.status}.")
    return invitation


@transaction.atomic
def resend_invitation(*, actor, organization: Organization, invitation_id: int) -> Invitation:
    """Send a fresh link (the previous one stops working) valid for another 7 days."""
    invitation = _lock_pending_invitation(organization, invitation_id)
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    invitation.token_hash = hash_token(token)
    invitation.expires_at = now + INVITATION_LIFETIME
    invitation.last_sent_at = now
    invitation.send_count += 1
    invitation.save()
    record(action=Action.INVITATION_RESENT, actor=actor, organization=organization,
           target=invitation, details={"email": invitation.email})
    _send_invitation(invitation, token)
    return invitation


@transaction.atomic
def revoke_invitation(*, actor, organization: Organization, invitation_id: int) -> Invitation:
    """Make a pending invitation unusable."""
    invitation = _lock_pending_invitation(organization, invitation_id)
    invitation.decide(InvitationStatus.REVOKED, by=actor)
    invitation.save()
    record(action=Action.INVITATION_REVOKED, actor=actor, organization=organization,
           target=invitation, details={"email": invitation.email})
    return invitation


def find_invitation(token: str) -> Invitation | None:
    """The invitation a link's token belongs to, whatever its status."""
    return (Invitation.objects.select_related("organization", "invited_by")
            .filter(token_hash=hash_token(token)).first())


def invitation_problem(invitation: Invitation | None, user=None) -> InvitationError | None:
    """Why this invitation cannot be taken (by this user), or None."""
    if invitation is None:
        return InvitationError("This invitation link is not valid. Ask the person who "
                               "invited you to send a new one.", code="not_found")
    who = f"{invitation.invited_by.display_name} or another Owner of {invitation.organization}"
    if invitation.status == InvitationStatus.ACCEPTED:
        return InvitationError(f"This invitation was already used. Ask {who} for a new one "
                               "if you need it.", code="used")
    if invitation.status == InvitationStatus.REVOKED:
        return InvitationError(f"This invitation was revoked. Ask {who} to invite you again.",
                               code="revoked")
    if invitation.status == InvitationStatus.DECLINED:
        return InvitationError(f"This invitation was declined. Ask {who} to invite you again.",
                               code="declined")
    if invitation.is_expired:
        return InvitationError(f"This invitation expired on {invitation.expires_at:%d %b %Y}. "
                               f"Ask {who} to resend it.", code="expired")
    if user is not None and invitation.email not in _verified_emails(user):
        return InvitationError(
            f"This invitation is for {invitation.email}, which is not a verified address of "
            "your account. Sign in with that address, or add and verify it first.",
            code="wrong_email")
    return None


def _take_invitation(*, actor, invitation_id: int, status: InvitationStatus) -> Invitation:
    invitation = (Invitation.objects.select_for_update().select_related("invited_by")
                  .filter(pk=invitation_id).first())
    problem = invitation_problem(invitation, actor)
    if problem:
        raise problem
    invitation.decide(status, by=actor)
    invitation.save()
    return invitation


@transaction.atomic
def accept_invitation(*, actor, invitation_id: int) -> Membership:
    """Join the inviting organization with the invited roles; usable once, and only by
    a user who verified the invited address."""
    invitation = _take_invitation(actor=actor, invitation_id=invitation_id,
                                  status=InvitationStatus.ACCEPTED)
    organization = _lock_organization(invitation.organization)
    workspaces = list(invitation.workspaces.all())
    membership = _join(user=actor, organization=organization, roles=invitation.roles,
                       workspaces=workspaces or None)
    record(action=Action.INVITATION_ACCEPTED, actor=actor, organization=organization,
           target=membership,
           details={"email": invitation.email, "roles": invitation.roles})
    return membership


@transaction.atomic
def decline_invitation(*, actor, invitation_id: int) -> Invitation:
    """Say no to an invitation; the inviter can send a new one."""
    invitation = _take_invitation(actor=actor, invitation_id=invitation_id,
                                  status=InvitationStatus.DECLINED)
    record(action=Action.INVITATION_DECLINED, actor=actor, organization=invitation.organization,
           target=invitation,
           details={"email": invitation.email})
    return invitation


# --- join requests -------------------------------------------------------------

def joinable_organizations(user, *, verified_emails=None):
    """Organizations that verified the domain of one of the user's verified addresses
    and that the user does not belong to (verified_emails: when the caller has them)."""
    emails = _verified_emails(user) if verified_emails is None else verified_emails
    domains = {domain_of(e) for e in emails}
    # A subquery, not exclude(memberships__user=..., memberships__is_active=...): across a
    # multi-valued relation exclude() need not match both on the same membership, which
    # shut out anyone with a past (inactive) membership.
    member_of = Membership.objects.active().filter(user=user).values("organization")
    return (Organization.objects.filter(domain_claims__domain__in=domains,
                                        domain_claims__status=DomainStatus.VERIFIED)
            .exclude(pk__in=member_of).distinct())


@transaction.atomic
def request_to_join(*, actor, organization_id: int, message: str = "") -> JoinRequest:
    """Ask to join an organization that claimed the actor's email domain."""
    organization = joinable_organizations(actor).filter(pk=organization_id).first()
    if organization is None:
        raise ValidationError("You can ask to join only an organization that verified the "
                              "domain of your email address.")
    organization = _lock_organization(organization)
    existing = JoinRequest.objects.pending().filter(organization=organization,
                                                    user=actor).first()
    if existing:
        return existing
    join_request = JoinRequest.objects.create(organization=organization, user=actor,
                                              message=message.strip()[:500])
    record(action=Action.JOIN_REQUESTED, actor=actor, organization=organization,
           target=join_request)
    owners = Membership.objects.for_organization(organization).with_role(Role.OWNER)
    to = [m.user.email for m in owners.select_related("user")]
    send_templated("workspaces/email/join_requested", to, {
        "join_request": join_request, "organization": organization,
        "url": settings.SITE_URL + reverse("join_requests", args=[organization.slug]),
    })
    return join_request


@transaction.atomic
def cancel_join_request(*, actor, join_request_id: int) -> JoinRequest:
    """Withdraw one's own pending request."""
    join_request = (JoinRequest.objects.select_for_update().pending()
                    .filter(user=actor, pk=join_request_id).first())
    if join_request is None:
        raise ValidationError("That request is no longer waiting.")
    join_request.decide(JoinRequestStatus.CANCELLED, by=actor)
    join_request.save()
    record(action=Action.JOIN_REQUEST_CANCELLED, actor=actor,
           organization=join_request.organization, target=join_request)
    return join_request


def _lock_pending_join_request(organization, join_request_id) -> JoinRequest:
    join_request = (JoinRequest.objects.select_for_update().select_related("user")
                    .filter(organization=organization, pk=join_request_id).first())
    if join_request is None:
        raise ValidationError("That request does not exist.")
    if join_request.status != JoinRequestStatus.PENDING:
        raise ValidationError(f"That request was already {join_request.status}.")
    return join_request


@transaction.atomic
def approve_join_request(*, actor, organization: Organization, join_request_id: int,
                         roles) -> Membership:
    """Let the requester in with the roles an Owner chose."""
    roles = _clean_roles(roles)
    organization = _lock_organization(organization)
    join_request = _lock_pending_join_request(organization, join_request_id)
    membership = _join(user=join_request.user, organization=organization, roles=roles)
    join_request.decide(JoinRequestStatus.APPROVED, by=actor)
    join_request.save()
    record(action=Action.JOIN_REQUEST_APPROVED, actor=actor, organization=organization,
           target=membership,
           details={"email": join_request.user.email, "roles": roles})
    send_templated("workspaces/email/join_decided", [join_request.user.email], {
        "join_request": join_request, "organization": organization, "approved": True,
        "url": settings.SITE_URL + reverse("access"),
    })
    return membership


@transaction.atomic
def decline_join_request(*, actor, organization: Organization, join_request_id: int,
                         reason: str) -> JoinRequest:
    """Refuse a request; the reason is shown to the requester."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why, so the person knows what to do next."})
    join_request = _lock_pending_join_request(organization, join_request_id)
    join_request.decide(JoinRequestStatus.DECLINED, by=actor)
    join_request.reason = reason[:500]
    join_request.save()
    record(action=Action.JOIN_REQUEST_DECLINED, actor=actor, organization=organization,
           target=join_request,
           details={"email": join_request.user.email, "reason": reason})
    send_templated("workspaces/email/join_decided", [join_request.user.email], {
        "join_request": join_request, "organization": organization, "approved": False,
        "url": settings.SITE_URL + reverse("access"),
    })
    return join_request


# --- members -------------------------------------------------------------------

def _lock_member(organization: Organization, membership_id: int) -> Membership:
    membership = (Membership.objects.select_for_update().select_related("user")
                  .for_organization(organization).filter(pk=membership_id).first())
    if membership is None:
        raise ValidationError("That person is not a member any more.")
    return membership


@transaction.atomic
def change_roles(*, actor, organization: Organization, membership_id: int, roles) -> Membership:
    """Replace a member's roles; the last Owner keeps the Owner role."""
    roles = _clean_roles(roles)
    organization = _lock_organization(organization)
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
    organization = _lock_organization(organization)
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
    organization = _lock_organization(organization)
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
    organization = _lock_organization(organization)
    membership = (Membership.objects.select_for_update().for_organization(organization)
                  .filter(user=actor).first())
    if membership is None:
        raise ValidationError("You are not a member of this organization.")
    if membership.has_role(Role.OWNER):
        _ensure_an_owner_remains(organization, without=membership)
    _deactivate(membership)
    record(action=Action.MEMBER_LEFT, actor=actor, organization=organization, target=membership)
    return membership
