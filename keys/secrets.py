"""API key format, checksum and hashing. Pure: no ORM, no request.

A key is `sk_sandbox_` or `sk_live_`, then 32 random base62 characters, then a
6-character base62 CRC32 of those 32 (as GitHub's tokens do), so a mistyped or
truncated key is refused before any database lookup. Only an HMAC-SHA256 of the
whole key under a server-side pepper is stored: fast to verify on every call,
useless without the pepper.
"""

import hashlib
import hmac
import secrets
import zlib
from dataclasses import dataclass

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
PREFIXES = {"sandbox": "sk_sandbox_", "production": "sk_live_"}
BODY_LENGTH = 32
CHECKSUM_LENGTH = 6
_CHARS = frozenset(ALPHABET)


class KeyFormatError(ValueError):
    """A string that cannot be one of our keys; `code` says why."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ParsedKey:
    environment: str
    body: str


def base62(number: int, width: int) -> str:
    digits = []
    while number:
        number, rest = divmod(number, 62)
        digits.append(ALPHABET[rest])
    return "".join(reversed(digits)).rjust(width, "0")


def checksum(body: str) -> str:
    """Six base62 characters of CRC32 over the random part."""
    return base62(zlib.crc32(body.encode()), CHECKSUM_LENGTH)


def random_string(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def generate(environment: str) -> str:
    """A new secret key for an environment (sandbox or production)."""
    body = random_string(BODY_LENGTH)
    return PREFIXES[environment] + body + checksum(body)


def parse(key: str) -> ParsedKey:
    """Check a presented key's shape and checksum; raise KeyFormatError if it is not ours."""
    matches = [(env, p) for env, p in PREFIXES.items() if key.startswith(p)]
    if not matches:
        raise KeyFormatError("MALFORMED_KEY", "An API key starts with sk_sandbox_ or sk_live_.")
    environment, prefix = matches[0]
    rest = key[len(prefix):]
    if len(rest) != BODY_LENGTH + CHECKSUM_LENGTH or not set(rest) <= _CHARS:
        raise KeyFormatError("MALFORMED_KEY", "The API key is truncated or has extra characters.")
    body, check = rest[:BODY_LENGTH], rest[BODY_LENGTH:]
    if not hmac.compare_digest(checksum(body), check):
        raise KeyFormatError("BAD_CHECKSUM", "The API key's checksum does not match: it was "
                             "probably mistyped or truncated.")
    return ParsedKey(environment, body)


def hash_key(key: str, pepper: bytes) -> str:
    """The stored form of a key: HMAC-SHA256 under the server's pepper, hex."""
    return hmac.new(pepper, key.encode(), hashlib.sha256).hexdigest()


def public_id() -> str:
    """A non-secret identifier to name a key in URLs, logs and the gateway's answers."""
    return "key_" + random_string(16)
