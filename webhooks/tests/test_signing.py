import base64
import time

import pytest
from cryptography.fernet import InvalidToken
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from webhooks.signing import (
    decrypt_secret,
    encrypt_secret,
    headers,
    new_fernet_key,
    new_secret,
    rotate_secret,
    sign,
    signature_header,
)

# The known-answer vector of the Standard Webhooks specification.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

OLD = "whsec_" + base64.b64encode(b"o" * 32).decode()
NEW = "whsec_" + base64.b64encode(b"n" * 32).decode()


def test_sign_matches_the_specification_vector():
    assert sign(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE


def test_headers_carry_id_timestamp_signature_and_json_content_type():
    assert headers([SPEC_SECRET], SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == {
        "webhook-id": SPEC_ID,
        "webhook-timestamp": "1614265330",
        "webhook-signature": SPEC_SIGNATURE,
        "content-type": "application/json",
    }


def test_our_headers_verify_with_the_independent_standardwebhooks_package():
    # given a fresh secret and a current timestamp (the package reads the real clock)
    secret = new_secret()
    now = int(time.time())
    body = b'{"type": "key.issued", "data": {"id": "key_123"}}'

    # when we sign
    sent = headers([secret], "msg_abc", now, body)

    # then the reference implementation accepts it, and rejects a changed body
    assert Webhook(secret).verify(body, sent) == {"type": "key.issued",
                                                  "data": {"id": "key_123"}}
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body + b" ", sent)


def test_rotation_header_verifies_with_either_secret_alone():
    now = int(time.time())
    sent = headers([NEW, OLD], "msg_rotation", now, b"{}")

    assert len(sent["webhook-signature"].split(" ")) == 2
    assert sent["webhook-signature"] == signature_header([NEW, OLD], "msg_rotation", now, b"{}")
    for secret in (OLD, NEW):
        assert Webhook(secret).verify(b"{}", sent) == {}
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(b"{}", sent)


def test_signature_header_needs_at_least_one_secret():
    with pytest.raises(ValueError, match="At least one signing secret"):
        signature_header([], SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY)


@pytest.mark.parametrize(
    ("case", "change"),
    [
        ("tampered body", {"body": b'{"test": 2432232315}'}),
        ("tampered id", {"webhook-id": "msg_other"}),
        ("tampered timestamp", {"webhook-timestamp": "shift"}),
        ("truncated signature", {"webhook-signature": "truncate"}),
    ],
)
def test_the_signature_covers_id_timestamp_and_body(case, change):
    # given a message we signed just now, checked by the reference implementation
    now = int(time.time())
    sent = headers([SPEC_SECRET], SPEC_ID, now, SPEC_BODY)
    assert Webhook(SPEC_SECRET).verify(SPEC_BODY, sent) == {"test": 2432232314}

    # when one part of it changes on the way
    body = change.get("body", SPEC_BODY)
    if "webhook-id" in change:
        sent["webhook-id"] = change["webhook-id"]
    if "webhook-timestamp" in change:
        sent["webhook-timestamp"] = str(now - 1)
    if "webhook-signature" in change:
        sent["webhook-signature"] = sent["webhook-signature"][:-4]

    # then the receiver refuses it
    with pytest.raises(WebhookVerificationError):
        Webhook(SPEC_SECRET).verify(body, sent)


@pytest.mark.parametrize(
    "secret", ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_", "whsec_not base64!"]
)
def test_malformed_secrets_are_refused(secret):
    with pytest.raises(ValueError, match="secret"):
        sign(secret, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY)


def test_new_secret_is_whsec_and_32_random_bytes():
    first, second = new_secret(), new_secret()

    assert first.startswith("whsec_")
    assert len(base64.b64decode(first.removeprefix("whsec_"), validate=True)) == 32
    assert first != second


def test_encrypted_secret_round_trips_and_does_not_contain_the_secret():
    keys = [new_fernet_key()]

    token = encrypt_secret(SPEC_SECRET, keys)

    assert SPEC_SECRET not in token
    assert decrypt_secret(token, keys) == SPEC_SECRET


def test_key_rotation_keeps_old_tokens_readable_and_moves_them_to_the_new_key():
    # given a secret encrypted under the old key list
    old_key, new_key = new_fernet_key(), new_fernet_key()
    token = encrypt_secret(SPEC_SECRET, [old_key])

    # when a new key is prepended
    keys = [new_key, old_key]

    # then the old token still decrypts, new tokens use the new key, and rotation re-encrypts
    assert decrypt_secret(token, keys) == SPEC_SECRET
    assert decrypt_secret(encrypt_secret(SPEC_SECRET, keys), [new_key]) == SPEC_SECRET
    rotated = rotate_secret(token, keys)
    assert decrypt_secret(rotated, [new_key]) == SPEC_SECRET
    with pytest.raises(InvalidToken):
        decrypt_secret(token, [new_key])


def test_encryption_needs_a_key():
    with pytest.raises(ValueError, match="encryption key"):
        encrypt_secret(SPEC_SECRET, [])
