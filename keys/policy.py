"""The key policy's rules, checked against a requested expiry: pure, tested by a table.

A Security owner sets, per environment, how old an active key may grow (the
integration verification's key-age check), whether every key must expire, and how far
ahead an expiry may be. keys.services asks `expiry_error` before issuing or rotating.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

DEFAULT_MAX_KEY_AGE_DAYS = 90
# Owners of a key's workspace are emailed this many days before it expires.
NOTICE_DAYS = (14, 3)


@dataclass(frozen=True)
class Rules:
    max_key_age_days: int = DEFAULT_MAX_KEY_AGE_DAYS
    expiry_required: bool = False
    max_expiry_days: int | None = None

    def describe(self) -> str:
        """One sentence a person reads next to the expiry field."""
        if self.max_expiry_days:
            return f"The key policy requires an expiry at most {self.max_expiry_days} days ahead."
        if self.expiry_required:
            return "The key policy requires every key to have an expiry."
        return "Leave empty for a key that lasts until revoked."


def expiry_error(rules: Rules, expires_at: datetime | None, now: datetime) -> str | None:
    """Why this expiry breaks the rules, or None when it is allowed."""
    if expires_at is None:
        if rules.expiry_required or rules.max_expiry_days:
            return "The key policy requires an expiry" + (
                f" at most {rules.max_expiry_days} days ahead." if rules.max_expiry_days
                else ".")
        return None
    if expires_at <= now:
        return "The expiry must be in the future."
    if rules.max_expiry_days and expires_at > now + timedelta(days=rules.max_expiry_days):
        latest = now + timedelta(days=rules.max_expiry_days)
        return (f"The key policy allows an expiry at most {rules.max_expiry_days} days ahead "
                f"(by {latest:%d %b %Y %H:%M} UTC).")
    return None
