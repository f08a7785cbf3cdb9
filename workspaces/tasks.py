from datetime import timedelta

from celery import shared_task
from django.db.models import F
from django.utils import timezone

from workspaces import domain_claims
from workspaces.models import DomainClaim, DomainStatus

# A pending claim is looked at for a week; after that its Owner checks on demand.
PENDING_RECHECK_FOR = timedelta(days=7)
RECHECK_BATCH = 500


@shared_task(queue="default", time_limit=60, soft_time_limit=50)
def check_domain(claim_id: int) -> str | None:
    """Look one claim's TXT record up; safe to run twice."""
    claim = domain_claims.check_domain(claim_id=claim_id)
    return claim.status if claim else None


@shared_task(queue="default", time_limit=60, soft_time_limit=50)
def recheck_domains() -> int:
    """Beat: enqueue a check of every verified claim and of recent pending ones, least
    recently checked first, so that a record that disappeared is noticed."""
    recent = timezone.now() - PENDING_RECHECK_FOR
    due = (DomainClaim.objects.filter(status=DomainStatus.VERIFIED)
           | DomainClaim.objects.filter(status=DomainStatus.PENDING, claimed_at__gte=recent))
    ids = list(due.order_by(F("checked_at").asc(nulls_first=True))
               .values_list("pk", flat=True)[:RECHECK_BATCH])
    for claim_id in ids:
        check_domain.delay(claim_id)
    return len(ids)
