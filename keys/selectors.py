"""Key verification: the hot path of the gateway and the sandbox API.

One indexed query (by the keyed hash) and, at most once a minute per key, one UPDATE
of last_used_at. No cache: a revoked key must fail on the very next request in every
process, and the unique index answers as fast as a cache would.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from keys import secrets
from keys.models import ApiKey
from keys.services import pepper

LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class Verification:
    # VALID, MALFORMED_KEY, BAD_CHECKSUM, NOT_FOUND, EXPIRED, REVOKED, WRONG_ENVIRONMENT,
    # FORBIDDEN
    code: str
    message: str
    key: ApiKey | None = None

    @property
    def valid(self) -> bool:
        return self.code == "VALID"

    def as_dict(self) -> dict:
        key = self.key
        return {
            "valid": self.valid, "code": self.code, "message": self.message,
            "key_id": key.public_id if key else None,
            "workspace": f"{key.workspace.organization.slug}/{key.workspace.slug}" if key else None,
            "environment": key.environment if key else None,
            "scopes": list(key.scopes) if key else [],
        }


def verify(presented: str, *, environment: str | None = None, scope: str | None = None,
           now=None) -> Verification:
    """Check a presented key; optionally that it belongs to an environment and has a scope."""
    try:
        parsed = secrets.parse(presented)
    except secrets.KeyFormatError as error:
        return Verification(error.code, str(error))
    key = (ApiKey.objects.select_related("workspace__organization")
           .filter(secret_hash=secrets.hash_key(presented, pepper())).first())
    if key is None:
        return Verification("NOT_FOUND", "No such API key.")
    now = now or timezone.now()
    if key.revoked_at:
        return Verification("REVOKED", f"This key was revoked on {key.revoked_at:%Y-%m-%d}.", key)
    if key.expires_at and key.expires_at <= now:
        return Verification("EXPIRED", f"This key expired on {key.expires_at:%Y-%m-%d %H:%M} UTC.",
                            key)
    if environment and parsed.environment != environment:
        return Verification("WRONG_ENVIRONMENT", f"This is a {parsed.environment} key; this "
                            f"endpoint serves {environment}.", key)
    if scope and scope not in key.scopes:
        return Verification("FORBIDDEN", f"This key lacks the {scope} scope.", key)
    _touch(key, now)
    return Verification("VALID", "The key is valid.", key)


def _touch(key: ApiKey, now) -> None:
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
