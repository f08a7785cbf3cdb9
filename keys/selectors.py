"""Key verification: the hot path of the gateway and the sandbox API.

A key this process has verified before is answered from its cache (keys/cache.py), which
every key change reaches before the changing service returns; otherwise one indexed
query by the keyed hash. At most once a minute per key and process, one UPDATE of
last_used_at. The query is plain SQL returning a small frozen record: building the ORM
query and a model instance cost more than the lookup itself (bench/keys_verify.py).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.utils import timezone

from keys import cache as key_cache
from keys import secrets
from keys.services import pepper

LAST_USED_RESOLUTION = timedelta(minutes=1)

# One row, no join, plain columns: a join, or formatting dates in SQL, costs about as much
# as the index lookup itself. Times are compared in Python, so tests can move the clock.
_LOOKUP = """
    SELECT id, public_id, workspace_id, environment, array_to_string(scopes, ' '),
           revoked_at, expires_at, last_used_at, workspace_path, suspended_at
      FROM keys_apikey
     WHERE secret_hash = %s
"""


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """What verification knows about a key; never its secret."""

    id: int
    public_id: str
    workspace_id: int
    environment: str
    scopes_text: str  # space-separated, as stored
    revoked_at: datetime | None
    expires_at: datetime | None
    last_used_at: datetime | None
    workspace: str  # "<org slug>/<workspace slug>"
    suspended_at: datetime | None  # its organization's suspension (keys/suspension.py)

    @property
    def pk(self) -> int:
        return self.id

    @property
    def scopes(self) -> tuple[str, ...]:
        return tuple(self.scopes_text.split())


@dataclass(frozen=True)
class Verification:
    # VALID, MALFORMED_KEY, BAD_CHECKSUM, NOT_FOUND, EXPIRED, REVOKED, SUSPENDED,
    # WRONG_ENVIRONMENT, FORBIDDEN
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
    """The key whose keyed hash matches: from this process's cache, else in one indexed
    query."""
    secret_hash = secrets.hash_key(presented, pepper())
    cache = key_cache.current()
    if cache is not None:
        if (known := cache.get(secret_hash)) is not None:
            return known
        generation = cache.generation
    with connection.cursor() as cursor:
        cursor.execute(_LOOKUP, [secret_hash])
        row = cursor.fetchone()
    if row is None:
        return None
    key = KeyInfo(*row)
    if cache is not None:
        cache.put(secret_hash, key, generation)
    return key


def _touch(key: KeyInfo, now: datetime) -> None:
    """Write last_used_at at most once a minute per key: per process by the row read (or,
    for a cached row, which does not change, by the cache's note of the last write),
    across processes by the WHERE clause."""
    cache = key_cache.current()
    written = cache.last_used_written(key.id) if cache is not None else None
    written = written or key.last_used_at
    if written is not None and written > now - LAST_USED_RESOLUTION:
        return
    if cache is not None:
        cache.note_last_used_written(key.id, now)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE keys_apikey SET last_used_at = %s WHERE id = %s AND "
                       "(last_used_at IS NULL OR last_used_at <= %s)",
                       [now, key.id, now - LAST_USED_RESOLUTION])


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
    if key.revoked_at is not None:
        return Verification("REVOKED", f"This key was revoked on {key.revoked_at:%Y-%m-%d}.",
                            key)
    if key.suspended_at is not None:
        return Verification("SUSPENDED", "This key's organization is suspended by the "
                            "platform; its keys are refused until the suspension is lifted.",
                            key)
    if key.expires_at is not None and key.expires_at <= now:
        return Verification("EXPIRED", f"This key expired on {key.expires_at:%Y-%m-%d %H:%M} "
                            "UTC.", key)
    if environment and parsed.environment != environment:
        return Verification("WRONG_ENVIRONMENT", f"This is a {parsed.environment} key; this "
                            f"endpoint serves {environment}.", key)
    if scope and scope not in key.scopes:
        return Verification("FORBIDDEN", f"This key lacks the {scope} scope.", key)
    _touch(key, now)
    return Verification("VALID", "The key is valid.", key)
