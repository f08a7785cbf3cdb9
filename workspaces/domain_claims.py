"""Claiming an email domain and proving it by a DNS TXT record.

A claim is pending until its token is found in DNS. Pending claims of several
organizations may coexist (a claim nobody proves blocks nobody); only one organization
holds a domain verified. A verified domain whose record disappears goes back to pending.
"""

import secrets

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.models import Action
from audit.services import record
from workspaces.dns_lookup import DnsUnavailable, txt_records
from workspaces.domains import (
    is_well_formed,
    normalize,
    proves,
    provider_kind,
    txt_name,
    txt_value,
)
from workspaces.limits import check_rate
from workspaces.models import DomainClaim, DomainStatus, Organization


@transaction.atomic
def claim_domain(*, actor, organization: Organization, domain: str) -> DomainClaim:
    """Start a pending claim with its own token; DNS proves it later."""
    domain = normalize(domain)
    if not is_well_formed(domain):
        raise ValidationError({"domain": "Enter a domain name, such as example.com."})
    kind = provider_kind(domain)
    if kind:
        raise ValidationError({"domain": f"{domain} is a {kind} email provider; anyone can "
                                         "have an address there."})
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    claims = DomainClaim.objects.filter(domain=domain)
    if claims.filter(organization=organization).exists():
        raise ValidationError({"domain": f"{organization} already claimed {domain}."})
    if claims.verified().exists():
        raise ValidationError({"domain": f"{domain} is verified by another organization. "
                                         "Ask to join it, or ask us to release it."})
    check_rate(Action.DOMAIN_CLAIMED, actor=actor, organization=organization,
               what="domain claims")
    claim = DomainClaim.objects.create(organization=organization, domain=domain,
                                       claimed_by=actor, token=secrets.token_urlsafe(24))
    record(action=Action.DOMAIN_CLAIMED, actor=actor, organization=organization,
           target=claim, details={"domain": domain})
    return claim


def check_domain(*, claim_id: int, actor=None) -> DomainClaim | None:
    """Look the claim's TXT record up and record what was found; None if the claim is gone.

    Run on demand (actor: the person who asked) and by the periodic re-check (no actor).
    Safe to run twice. A lookup that fails (timeout, server failure) changes no status.
    """
    claim = DomainClaim.objects.filter(pk=claim_id).first()
    if claim is None:
        return None
    # Outside the transaction: a slow DNS answer must not hold a row lock.
    try:
        found, error = proves(txt_records(txt_name(claim.domain)), claim.token), ""
    except DnsUnavailable as unavailable:
        found, error = None, str(unavailable)
    with transaction.atomic():
        claim = DomainClaim.objects.select_for_update().filter(pk=claim_id).first()
        if claim is None:
            return None
        now = timezone.now()
        claim.checked_at, claim.check_error = now, error
        if found is True and not claim.is_verified:
            _verify(claim, actor=actor, now=now)
        elif found is False and claim.is_verified:
            claim.status, claim.verified_at, claim.lost_at = DomainStatus.PENDING, None, now
            claim.check_error = (f"The TXT record at {txt_name(claim.domain)} was not found on "
                                 f"{now:%d %b %Y at %H:%M} UTC; the domain is pending again.")
            record(action=Action.DOMAIN_UNVERIFIED, actor=actor,
                   organization=claim.organization, target=claim,
                   details={"domain": claim.domain})
        elif found is False:
            claim.check_error = (f"No TXT record {txt_value(claim.token)} at "
                                 f"{txt_name(claim.domain)} yet.")
        claim.save()
    return claim


def _verify(claim: DomainClaim, *, actor, now) -> None:
    claim.status, claim.verified_at, claim.lost_at = DomainStatus.VERIFIED, now, None
    try:
        with transaction.atomic():
            claim.save()
    except IntegrityError:
        # The partial unique index: another organization proved the domain first.
        claim.status, claim.verified_at = DomainStatus.PENDING, None
        claim.check_error = (f"Your record is in place, but another organization verified "
                             f"{claim.domain} first.")
        return
    record(action=Action.DOMAIN_VERIFIED, actor=actor, organization=claim.organization,
           target=claim, details={"domain": claim.domain})


@transaction.atomic
def release_domain(*, actor, claim_id: int, organization: Organization | None = None) -> None:
    """Give a claim up (its Owner, or platform staff with no organization given)."""
    claims = DomainClaim.objects.select_for_update()
    if organization is not None:
        claims = claims.filter(organization=organization)
    claim = claims.select_related("organization").filter(pk=claim_id).first()
    if claim is None:
        raise ValidationError("That domain is no longer claimed.")
    record(action=Action.DOMAIN_RELEASED, actor=actor, organization=claim.organization,
           target=claim, details={"domain": claim.domain, "status": claim.status,
                                  "by_staff": organization is None})
    claim.delete()
