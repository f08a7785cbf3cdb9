"""How often an organization and a person may invite, resend, ask to join and claim
domains: counted from the audit trail, which records each of them anyway."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from audit.models import AuditEvent


def _span(seconds: int) -> str:
    return "hour" if seconds == 3600 else "day" if seconds == 86400 else f"{seconds} seconds"


def check_rate(action: str, *, actor, organization, what: str) -> None:
    """Raise a ValidationError when `action` was done too often lately by this
    organization or this person (settings.PORTAL_ACTION_LIMITS). Callers hold the
    organization's row lock, so the organization's count is exact."""
    for scope, (amount, seconds) in settings.PORTAL_ACTION_LIMITS[action].items():
        events = AuditEvent.objects.filter(
            action=action, occurred_at__gte=timezone.now() - timedelta(seconds=seconds))
        if scope == "organization":
            events, who = events.filter(organization=organization), str(organization)
        else:
            events, who = events.filter(actor=actor), "you"
        if events.count() >= amount:
            raise ValidationError(f"Too many {what} from {who} in the last {_span(seconds)} "
                                  f"(at most {amount}). Try again later.", code="rate_limited")
