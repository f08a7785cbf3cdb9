"""People asking to join an organization whose domain they share, and its Owners' answers.

Each service owns its transaction: it locks the row it changes, validates, writes the
change and its audit event together, and sends mail only after commit.
"""


from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse

from accounts.mail import send_templated
from audit.models import Action
from audit.services import record
from workspaces.domains import domain_of
from workspaces.limits import check_rate
from workspaces.models import (
    DomainStatus,
    JoinRequest,
    JoinRequestStatus,
    Membership,
    Organization,
)
from workspaces.roles import Role
from workspaces.services.members import clean_roles, join, lock_organization, verified_emails_of


def joinable_organizations(user, *, verified_emails=None):
    """Organizations that verified the domain of one of the user's verified addresses
    and that the user does not belong to (verified_emails: when the caller has them)."""
    emails = verified_emails_of(user) if verified_emails is None else verified_emails
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
    organization = lock_organization(organization)
    existing = JoinRequest.objects.pending().filter(organization=organization,
                                                    user=actor).first()
    if existing:
        return existing
    check_rate(Action.JOIN_REQUESTED, actor=actor, organization=organization,
               what="requests to join")
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
    roles = clean_roles(roles)
    organization = lock_organization(organization)
    join_request = _lock_pending_join_request(organization, join_request_id)
    membership = join(user=join_request.user, organization=organization, roles=roles)
    join_request.decide(JoinRequestStatus.APPROVED, by=actor)
    join_request.save()
    record(action=Action.JOIN_REQUEST_APPROVED, actor=actor, organization=organization,
           target=membership,
           details={"email": join_request.user.email, "roles": roles})
    _tell_requester(join_request, organization, approved=True)
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
    _tell_requester(join_request, organization, approved=False)
    return join_request


def _tell_requester(join_request: JoinRequest, organization: Organization, *,
                    approved: bool) -> None:
    send_templated("workspaces/email/join_decided", [join_request.user.email], {
        "join_request": join_request, "organization": organization, "approved": approved,
        "url": settings.SITE_URL + reverse("access"),
    })
