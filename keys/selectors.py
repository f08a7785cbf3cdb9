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

# One row, no join, booleans and text only: a join costs about as much as the index
# lookup itself. %(now)s and %(stale)s are parameters so that tests can move the clock.
_LOOKUP = """
    SELECT k.id, k.public_id, k.workspace_id, k.environment,
           array_to_string(k.scopes, ' '),
           to_char(k.revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'),
           to_char(k.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),
           k.expires_at IS NOT NULL AND k.expires_at <= %(now)s,
           k.last_used_at IS NULL OR k.last_used_at <= %(stale)s,
           k.workspace_path
      FROM keys_apikey k
     WHERE k.secret_hash = %(hash)s
"""


@dataclass(frozen=True)
class KeyInfo:
    """What verification knows about a key; never its secret."""

    id: int
    public_id: str
    workspace_id: int
    environment: str
    scopes: tuple[str, ...]
    revoked_on: str | None  # "YYYY-MM-DD" (UTC) when revoked
    expires: str | None  # "YYYY-MM-DD HH:MM" (UTC) when it has an expiry
    expired: bool
    last_used_stale: bool  # last_used_at is older than LAST_USED_RESOLUTION
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


def lookup(presented: str, now: datetime) -> KeyInfo | None:
    """The key whose keyed hash matches, in one indexed query."""
    with connection.cursor() as cursor:
        cursor.execute(_LOOKUP, {"hash": secrets.hash_key(presented, pepper()), "now": now,
                                 "stale": now - LAST_USED_RESOLUTION})
        row = cursor.fetchone()
    if row is None:
        return None
    return KeyInfo(row[0], row[1], row[2], row[3], tuple(row[4].split()), row[5], row[6],
                   row[7], row[8], row[9])


def verify(presented: str, *, environment: str | None = None, scope: str | None = None,
           now=None) -> Verification:
    """Check a presented key; optionally that it belongs to an environment and has a scope."""
    try:
        parsed = secrets.parse(presented)
    except secrets.KeyFormatError as error:
        return Verification(error.code, str(error))
    now = now or timezone.now()
    key = lookup(presented, now)
    if key is None:
        return Verification("NOT_FOUND", "No such API key.")
    if key.revoked_on:
        return Verification("REVOKED", f"This key was revoked on {key.revoked_on}.", key)
    if key.expired:
        return Verification("EXPIRED", f"This key expired on {key.expires} UTC.", key)
    if environment and parsed.environment != environment:
        return Verification("WRONG_ENVIRONMENT", f"This is a {parsed.environment} key; this "
                            f"endpoint serves {environment}.", key)
    if scope and scope not in key.scopes:
        return Verification("FORBIDDEN", f"This key lacks the {scope} scope.", key)
    if key.last_used_stale:
        with connection.cursor() as cursor:
            cursor.execute("UPDATE keys_apikey SET last_used_at = %s WHERE id = %s",
                           [now, key.id])
    return Verification("VALID", "The key is valid.", key)
