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
    verify,
)

# The known-answer vector of the Standard Webhooks specification.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

OLD = "whsec_" + base64.b64encode(b"o" * 32).decode()
NEW = "whsec_" + base64.b64encode(b"n" * 32).decode()


def spec_headers(signature: str = SPEC_SIGNATURE, **changes: str) -> dict[str, str]:
    return {"webhook-id": SPEC_ID, "webhook-timestamp": str(SPEC_TIMESTAMP),
            "webhook-signature": signature, **changes}


def test_sign_matches_the_specification_vector():
    assert sign(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE


def test_verify_accepts_the_specification_vector():
    assert verify(SPEC_SECRET, spec_headers(), SPEC_BODY, now=SPEC_TIMESTAMP) is True


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
        assert verify(secret, sent, b"{}", now=now) is True
        Webhook(secret).verify(b"{}", sent)
    assert verify(new_secret(), sent, b"{}", now=now) is False


def test_signature_header_needs_at_least_one_secret():
    with pytest.raises(ValueError, match="At least one signing secret"):
        signature_header([], SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY)


@pytest.mark.parametrize(
    ("case", "sent", "body", "now", "expected"),
    [
        ("untouched", spec_headers(), SPEC_BODY, SPEC_TIMESTAMP, True),
        ("header names in any case", {k.title(): v for k, v in spec_headers().items()},
         SPEC_BODY, SPEC_TIMESTAMP, True),
        ("tampered body", spec_headers(), b'{"test": 2432232315}', SPEC_TIMESTAMP, False),
        ("tampered id", spec_headers(**{"webhook-id": "msg_other"}), SPEC_BODY,
         SPEC_TIMESTAMP, False),
        ("tampered timestamp", spec_headers(**{"webhook-timestamp": "1614265331"}),
         SPEC_BODY, SPEC_TIMESTAMP, False),
        ("timestamp at the tolerance", spec_headers(), SPEC_BODY, SPEC_TIMESTAMP + 300, True),
        ("expired timestamp", spec_headers(), SPEC_BODY, SPEC_TIMESTAMP + 301, False),
        ("timestamp too far ahead", spec_headers(), SPEC_BODY, SPEC_TIMESTAMP - 301, False),
        ("non-numeric timestamp", spec_headers(**{"webhook-timestamp": "+1614265330"}),
         SPEC_BODY, SPEC_TIMESTAMP, False),
        ("missing signature", {"webhook-id": SPEC_ID, "webhook-timestamp": "1614265330"},
         SPEC_BODY, SPEC_TIMESTAMP, False),
        ("other versions and junk beside a good v1",
         spec_headers(f"v1a,abc v1,!!notbase64 {SPEC_SIGNATURE}"), SPEC_BODY, SPEC_TIMESTAMP,
         True),
        ("right digest under another version", spec_headers("v2" + SPEC_SIGNATURE[2:]),
         SPEC_BODY, SPEC_TIMESTAMP, False),
        ("truncated signature", spec_headers(SPEC_SIGNATURE[:-4]), SPEC_BODY,
         SPEC_TIMESTAMP, False),
    ],
)
def test_verify_table(case, sent, body, now, expected):
    assert verify(SPEC_SECRET, sent, body, now=now) is expected, case


def test_a_custom_tolerance_is_honoured():
    assert verify(SPEC_SECRET, spec_headers(), SPEC_BODY, now=SPEC_TIMESTAMP + 60,
                  tolerance=30) is False


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
