"""Inviting people by email: sending, resending, revoking, accepting and declining.

Each service owns its transaction: it locks the row it changes, validates, writes the
change and its audit event together, and sends mail only after commit.
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.mail import send_templated
from audit.models import Action
from audit.services import record
from workspaces.grants import grant
from workspaces.limits import check_rate
from workspaces.models import (
    Invitation,
    InvitationStatus,
    Membership,
    Organization,
    Workspace,
)
from workspaces.roles import Role
from workspaces.services.members import clean_roles, join, lock_organization, verified_emails_of

INVITATION_LIFETIME = timedelta(days=7)


class InvitationError(ValidationError):
    """An invitation link that cannot be used; `code` says why."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _send_invitation(invitation: Invitation, token: str) -> None:
    url = settings.SITE_URL + reverse("invitation", args=[token])
    send_templated("workspaces/email/invitation", [invitation.email], {
        "invitation": invitation, "url": url, "inviter": invitation.invited_by,
        "roles": ", ".join(invitation.role_labels), "expires_at": invitation.expires_at,
    })


@transaction.atomic
def invite_member(*, actor, organization: Organization, email: str, roles,
                  workspaces=(), workspace_roles=None) -> tuple[Invitation, bool]:
    """Invite an address with roles (and, per workspace, roles that replace them there);
    an open invitation to the same address is returned as it is (created=False) rather
    than duplicated."""
    email = email.strip().lower()
    roles = clean_roles(roles)
    organization = lock_organization(organization)
    if Membership.objects.for_organization(organization).filter(
            user__email__iexact=email).exists():
        raise ValidationError({"email": f"{email} is already a member of {organization}."})
    existing = Invitation.objects.filter(organization=organization, email=email,
                                         status=InvitationStatus.PENDING).first()
    if existing and not existing.is_expired:
        return existing, False
    check_rate(Action.MEMBER_INVITED, actor=actor, organization=organization,
               what="invitations")
    if existing:  # an expired one makes room for the new one
        existing.status = InvitationStatus.REVOKED
        existing.save(update_fields=["status"])
        record(action=Action.INVITATION_REPLACED, actor=actor, organization=organization,
               target=existing, details={"email": existing.email})
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
    per_workspace = {w: clean_roles(r) for w, r in (workspace_roles or {}).items() if r}
    if [w for w in per_workspace if w.organization_id != organization.pk]:
        raise ValidationError({"workspaces": "Choose workspaces of this organization."})
    if per_workspace and Role.OWNER in roles:
        raise ValidationError({"roles": "Owners have every workspace with their organization "
                                        "roles; leave the roles per workspace empty."})
    if per_workspace:
        invitation.workspace_roles = {str(w.pk): r for w, r in per_workspace.items()}
        invitation.save(update_fields=["workspace_roles"])
    record(action=Action.MEMBER_INVITED, actor=actor, organization=organization, target=invitation,
           details={"email": email, "roles": roles,
                    "workspaces": [w.slug for w in workspaces],
                    **({"workspace_roles": {w.slug: r for w, r in per_workspace.items()}}
                       if per_workspace else {})})
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
    check_rate(Action.INVITATION_RESENT, actor=actor, organization=organization,
               what="invitation resends")
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


def inviter_may_still_invite(invitation: Invitation) -> bool:
    """True while whoever sent the invitation is an active member who may manage members."""
    inviter = Membership.objects.filter(user_id=invitation.invited_by_id, is_active=True,
                                        organization_id=invitation.organization_id).first()
    return inviter is not None and inviter.can("members.manage")


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
    if not inviter_may_still_invite(invitation):
        return InvitationError(
            f"{invitation.invited_by.display_name} can no longer invite people to "
            f"{invitation.organization}, so this invitation no longer works. Ask another "
            f"Owner of {invitation.organization} to invite you.", code="inviter_gone")
    if user is not None and invitation.email not in verified_emails_of(user):
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
    organization = lock_organization(invitation.organization)
    workspaces = list(invitation.workspaces.all())
    membership = join(user=actor, organization=organization, roles=invitation.roles,
                       workspaces=workspaces or None)
    for workspace in Workspace.objects.for_organization(organization).filter(
            pk__in=[int(pk) for pk in invitation.workspace_roles]):
        grant(actor, workspace, invitation.workspace_roles[str(workspace.pk)])
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
