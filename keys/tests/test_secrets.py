import re

import pytest

from keys import secrets

PEPPER = b"test-pepper"


def test_generated_keys_have_the_documented_shape_and_a_valid_checksum():
    key = secrets.generate("sandbox")

    assert re.fullmatch(r"sk_sandbox_[0-9A-Za-z]{32}[0-9A-Za-z]{6}", key)
    assert secrets.parse(key) == secrets.ParsedKey("sandbox", key[11:43])
    assert secrets.generate("production").startswith("sk_live_")


def test_checksum_is_base62_crc32_padded_to_six():
    import zlib

    assert secrets.checksum("a" * 32) == secrets.base62(zlib.crc32(b"a" * 32), 6)
    assert secrets.base62(0, 6) == "000000"
    assert secrets.base62(61, 6) == "00000z"
    assert secrets.base62(62, 6) == "000010"


def _flip(key: str, index: int) -> str:
    replacement = "A" if key[index] != "A" else "B"
    return key[:index] + replacement + key[index + 1:]


@pytest.mark.parametrize("position", [11, 20, 42, 43, 48])
def test_any_one_character_change_fails_the_checksum(position):
    key = secrets.generate("sandbox")

    with pytest.raises(secrets.KeyFormatError) as caught:
        secrets.parse(_flip(key, position))

    assert caught.value.code == "BAD_CHECKSUM"


@pytest.mark.parametrize(
    ("presented", "code"),
    [
        ("", "MALFORMED_KEY"),
        ("pk_sandbox_" + "a" * 38, "MALFORMED_KEY"),
        ("sk_test_" + "a" * 38, "MALFORMED_KEY"),
        ("sk_sandbox_" + "a" * 37, "MALFORMED_KEY"),  # truncated
        ("sk_sandbox_" + "a" * 39, "MALFORMED_KEY"),  # one too many
        ("sk_sandbox_" + "a" * 31 + "-" + "a" * 6, "MALFORMED_KEY"),
        ("sk_sandbox_" + "a" * 38, "BAD_CHECKSUM"),
    ],
)
def test_malformed_and_mistyped_keys_get_their_own_code(presented, code):
    with pytest.raises(secrets.KeyFormatError) as caught:
        secrets.parse(presented)

    assert caught.value.code == code


def test_the_stored_hash_is_keyed_and_deterministic():
    key = secrets.generate("sandbox")

    assert secrets.hash_key(key, PEPPER) == secrets.hash_key(key, PEPPER)
    assert secrets.hash_key(key, PEPPER) != secrets.hash_key(key, b"other-pepper")
    assert key not in secrets.hash_key(key, PEPPER)
    assert len(secrets.hash_key(key, PEPPER)) == 64


def test_public_ids_are_not_secrets_and_do_not_repeat():
    ids = {secrets.public_id() for _ in range(1000)}

    assert len(ids) == 1000
    assert all(i.startswith("key_") and len(i) == 20 for i in ids)
