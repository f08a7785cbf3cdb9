"""Platform staff suspend an organization on an incident, and lift the suspension.

Nothing is deleted. The suspension is copied onto each of the organization's key rows
(ApiKey.suspended_at): verification reads that one row with no join, and the cache
trigger announces the change, so the service returns only once every process's key
cache has dropped the organization's keys (the same barrier as revoke_key): the very
next verification anywhere answers SUSPENDED.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.models import Action
from audit.services import record
from keys.models import ApiKey
from keys.services import _drop_from_caches_before_returning
from workspaces.models import Organization


def _clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Give the reason: it is kept in the audit log."})
    return reason


@transaction.atomic
def suspend_organization(*, actor, organization_id: int, reason: str) -> Organization:
    """Refuse every key of the organization until the suspension is lifted."""
    reason = _clean_reason(reason)
    organization = Organization.objects.select_for_update().get(pk=organization_id)
    if organization.suspended_at is not None:
        raise ValidationError(f"{organization.name} is already suspended.")
    _drop_from_caches_before_returning()
    organization.suspended_at, organization.suspension_reason = timezone.now(), reason
    organization.save(update_fields=["suspended_at", "suspension_reason"])
    keys = ApiKey.objects.filter(workspace__organization=organization)
    suspended = keys.update(suspended_at=organization.suspended_at)
    record(action=Action.ORGANIZATION_SUSPENDED, actor=actor, organization=organization,
           target=organization, details={"reason": reason, "keys": suspended})
    return organization


@transaction.atomic
def lift_suspension(*, actor, organization_id: int, reason: str) -> Organization:
    """Let the organization's keys verify again (those not revoked or expired)."""
    reason = _clean_reason(reason)
    organization = Organization.objects.select_for_update().get(pk=organization_id)
    if organization.suspended_at is None:
        raise ValidationError(f"{organization.name} is not suspended.")
    _drop_from_caches_before_returning()
    organization.suspended_at, organization.suspension_reason = None, ""
    organization.save(update_fields=["suspended_at", "suspension_reason"])
    lifted = (ApiKey.objects.filter(workspace__organization=organization)
              .update(suspended_at=None))
    record(action=Action.ORGANIZATION_UNSUSPENDED, actor=actor, organization=organization,
           target=organization, details={"reason": reason, "keys": lifted})
    return organization
