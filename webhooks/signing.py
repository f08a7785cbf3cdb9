"""Standard Webhooks signatures and encryption of signing secrets at rest. Pure: no ORM, no request.

A signing secret is `whsec_` followed by the base64 of 32 random bytes; the HMAC key is
those bytes. A request carries `webhook-id`, `webhook-timestamp` and `webhook-signature`,
where the signature is `v1,` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")). During
a secret rotation the header holds one signature per live secret, separated by spaces, so a
receiver holding either secret accepts the message (https://www.standardwebhooks.com/).
Receivers verify with any Standard Webhooks library; the portal itself only signs.

Secrets are stored encrypted with Fernet under a list of keys: the first key encrypts and
every key decrypts, so a new key is rolled out by putting it first and re-encrypting.
"""

import base64
import binascii
import hashlib
import hmac
from secrets import token_bytes

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
SIGNATURE_VERSION = "v1"

__all__ = [
    "SECRET_BYTES",
    "SECRET_PREFIX",
    "InvalidToken",
    "decrypt_secret",
    "encrypt_secret",
    "headers",
    "new_fernet_key",
    "new_secret",
    "rotate_secret",
    "sign",
    "signature_header",
]


def new_secret() -> str:
    """A new signing secret: `whsec_` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key inside a `whsec_` secret; ValueError if the secret is malformed."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("A webhook signing secret starts with whsec_.")
    encoded = secret[len(SECRET_PREFIX):]
    try:
        # validate=True: a secret with stray characters is a storage bug, not something to
        # silently sign with a different key than the receiver derives.
        key = base64.b64decode(encoded, validate=True)
    except binascii.Error as error:
        raise ValueError("A webhook signing secret is base64 after whsec_.") from error
    if not key:
        raise ValueError("A webhook signing secret may not be empty.")
    return key


def _digest(key: bytes, msg_id: str, timestamp: int, body: bytes) -> bytes:
    # The body is signed as the exact bytes sent: re-encoding JSON would break receivers.
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return hmac.new(key, signed, hashlib.sha256).digest()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` under the secret's key."""
    digest = _digest(secret_key(secret), msg_id, timestamp, body)
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


def signature_header(secrets: list[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value: one signature per secret, space-separated."""
    signatures = [sign(secret, msg_id, timestamp, body) for secret in secrets]
    if not signatures:
        raise ValueError("At least one signing secret is needed to sign a webhook.")
    return " ".join(signatures)


def headers(secrets: list[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The signed request headers of one delivery attempt."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets, msg_id, timestamp, body),
        "content-type": "application/json",
    }


def new_fernet_key() -> str:
    """A new key for encrypting signing secrets at rest."""
    return Fernet.generate_key().decode()


def _fernet(keys: list[str]) -> MultiFernet:
    if not keys:
        raise ValueError("At least one encryption key is needed for webhook secrets.")
    return MultiFernet([Fernet(key) for key in keys])


def encrypt_secret(secret: str, keys: list[str]) -> str:
    """The stored form of a signing secret, encrypted under the first key."""
    return _fernet(keys).encrypt(secret.encode()).decode()


def decrypt_secret(token: str, keys: list[str]) -> str:
    """The signing secret inside a stored token; raises InvalidToken if no key opens it."""
    return _fernet(keys).decrypt(token.encode()).decode()


def rotate_secret(token: str, keys: list[str]) -> str:
    """The same secret re-encrypted under the first key, so older keys can be retired."""
    return _fernet(keys).rotate(token.encode()).decode()
