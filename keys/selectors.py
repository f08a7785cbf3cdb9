"""Key verification: the hot path of the gateway and the sandbox API.

One indexed query by the keyed hash, and at most once a minute per key one UPDATE of
last_used_at. No cache: a revoked key must fail on the very next request in every
process, and the unique index answers as fast as a cache would. The query is plain
SQL returning a small frozen record: building the ORM query and a model instance cost
more than the lookup itself (bench/keys_verify.py).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.utils import timezone

from keys import secrets
from keys.services import pepper

LAST_USED_RESOLUTION = timedelta(minutes=1)

_LOOKUP = """
    SELECT k.id, k.public_id, k.workspace_id, k.environment, k.scopes, k.revoked_at,
           k.expires_at, k.last_used_at, o.slug || '/' || w.slug
      FROM keys_apikey k
      JOIN workspaces_workspace w ON w.id = k.workspace_id
      JOIN workspaces_organization o ON o.id = w.organization_id
     WHERE k.secret_hash = %s
"""


@dataclass(frozen=True)
class KeyInfo:
    """What verification knows about a key; never its secret."""

    id: int
    public_id: str
    workspace_id: int
    environment: str
    scopes: tuple[str, ...]
    revoked_at: datetime | None
    expires_at: datetime | None
    last_used_at: datetime | None
    workspace: str  # "<org slug>/<workspace slug>"

    @property
    def pk(self) -> int:
        return self.id


@dataclass(frozen=True)
class Verification:
    # VALID, MALFORMED_KEY, BAD_CHECKSUM, NOT_FOUND, EXPIRED, REVOKED, WRONG_ENVIRONMENT,
    # FORBIDDEN
    code: str
    message: str
    key: KeyInfo | None = None

    @property
    def valid(self) -> bool:
        return self.code == "VALID"

    def as_dict(self) -> dict:
        key = self.key
        return {
            "valid": self.valid, "code": self.code, "message": self.message,
            "key_id": key.public_id if key else None,
            "workspace": key.workspace if key else None,
            "environment": key.environment if key else None,
            "scopes": list(key.scopes) if key else [],
        }


def lookup(presented: str) -> KeyInfo | None:
    """The key whose keyed hash matches, in one indexed query."""
    with connection.cursor() as cursor:
        cursor.execute(_LOOKUP, [secrets.hash_key(presented, pepper())])
        row = cursor.fetchone()
    if row is None:
        return None
    return KeyInfo(row[0], row[1], row[2], row[3], tuple(row[4]), row[5], row[6], row[7],
                   row[8])


def verify(presented: str, *, environment: str | None = None, scope: str | None = None,
           now=None) -> Verification:
    """Check a presented key; optionally that it belongs to an environment and has a scope."""
    try:
        parsed = secrets.parse(presented)
    except secrets.KeyFormatError as error:
        return Verification(error.code, str(error))
    key = lookup(presented)
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
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        with connection.cursor() as cursor:
            cursor.execute("UPDATE keys_apikey SET last_used_at = %s WHERE id = %s",
                           [now, key.id])
    return Verification("VALID", "The key is valid.", key)
