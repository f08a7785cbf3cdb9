"""The shipped pages say true things: their code runs, their links lead somewhere."""

import base64
import re
import secrets
from datetime import UTC, datetime
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.urls import Resolver404, resolve
from standardwebhooks import Webhook

from docs.pages import CONTENT_DIR, all_pages

PAGES = {page.slug: page for page in all_pages()}
KEY = re.compile(r"sk_(?:sandbox|live)_[0-9A-Za-z]{38,}")
FENCED_BLOCK = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
# Documentation must not invent hosts: our own examples use portal.example.com;
# only these references to published specifications and packages are real hosts.
ALLOWED_HOSTS = {
    "portal.example.com",
    "www.standardwebhooks.com",
    "pypi.org",
    "www.rfc-editor.org",
}


def source(slug: str) -> str:
    return (CONTENT_DIR / f"{slug}.md").read_text(encoding="utf-8")


def code_blocks(slug: str, language: str) -> list[str]:
    return [code for lang, code in FENCED_BLOCK.findall(source(slug)) if lang == language]


def namespace_of_block_defining(slug: str, name: str) -> dict:
    (block,) = [code for code in code_blocks(slug, "python") if f"def {name}(" in code]
    namespace: dict = {}
    exec(compile(block, f"{slug}.md", "exec"), namespace)
    return namespace


def table_value(slug: str, label: str) -> str:
    """The backquoted value in the row `| label | `value` |` of a page's table."""
    match = re.search(rf"^\| {re.escape(label)} \| `([^`]+)` \|$", source(slug), re.MULTILINE)
    assert match, f"no table row {label!r} in {slug}.md"
    return match.group(1)


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.hrefs.append(attrs["href"])
        if attrs.get("id"):
            self.ids.add(attrs["id"])


def links_of(html: str) -> _Links:
    parser = _Links()
    parser.feed(html)
    return parser


# --- Webhook verification -----------------------------------------------------


@pytest.fixture
def verify_webhook_namespace():
    return namespace_of_block_defining("webhooks", "verify_webhook")


def test_documented_worked_example_is_what_standardwebhooks_signs():
    secret = table_value("webhooks", "Secret")
    message_id = table_value("webhooks", "`webhook-id`")
    timestamp = table_value("webhooks", "`webhook-timestamp`")
    body = table_value("webhooks", "Body")
    expected = table_value("webhooks", "Expected `webhook-signature`")

    signed = Webhook(secret).sign(
        message_id, datetime.fromtimestamp(int(timestamp), tz=UTC), body
    )

    assert signed == expected
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32


def test_documented_stdlib_code_verifies_the_worked_example(verify_webhook_namespace):
    verify_webhook = verify_webhook_namespace["verify_webhook"]
    headers = {
        "Webhook-Id": table_value("webhooks", "`webhook-id`"),
        "Webhook-Timestamp": table_value("webhooks", "`webhook-timestamp`"),
        "Webhook-Signature": table_value("webhooks", "Expected `webhook-signature`"),
    }
    body = table_value("webhooks", "Body").encode()

    event = verify_webhook(
        table_value("webhooks", "Secret"), headers, body, now=int(headers["Webhook-Timestamp"]) + 60
    )

    assert event["type"] == "webhook.test"


def test_documented_stdlib_code_accepts_what_standardwebhooks_signs_now(
    verify_webhook_namespace,
):
    # given a fresh secret and a message signed by the reference implementation
    verify_webhook = verify_webhook_namespace["verify_webhook"]
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    body = '{"type":"webhook.test","data":{"n":1}}'
    sent_at = datetime.now(tz=UTC)
    signature = Webhook(secret).sign("msg_1", sent_at, body)
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signature,
    }

    # then the documented code accepts it, and the reference accepts it back
    assert verify_webhook(secret, headers, body.encode()) == {
        "type": "webhook.test",
        "data": {"n": 1},
    }
    assert Webhook(secret).verify(body, headers) == {"type": "webhook.test", "data": {"n": 1}}


def test_documented_stdlib_code_rejects_tampering_age_and_a_wrong_secret(
    verify_webhook_namespace,
):
    verify_webhook = verify_webhook_namespace["verify_webhook"]
    invalid = verify_webhook_namespace["InvalidWebhook"]
    secret = table_value("webhooks", "Secret")
    timestamp = int(table_value("webhooks", "`webhook-timestamp`"))
    headers = {
        "webhook-id": table_value("webhooks", "`webhook-id`"),
        "webhook-timestamp": str(timestamp),
        "webhook-signature": table_value("webhooks", "Expected `webhook-signature`"),
    }
    body = table_value("webhooks", "Body").encode()

    with pytest.raises(invalid, match="No matching signature"):
        verify_webhook(secret, headers, body.replace(b"sandbox", b"hacker"), now=timestamp)
    with pytest.raises(invalid, match="tolerance"):
        verify_webhook(secret, headers, body, now=timestamp + 5 * 60 + 1)
    with pytest.raises(invalid, match="tolerance"):
        verify_webhook(secret, headers, body, now=timestamp - 5 * 60 - 1)
    other = "whsec_" + base64.b64encode(b"x" * 32).decode()
    with pytest.raises(invalid, match="No matching signature"):
        verify_webhook(other, headers, body, now=timestamp)
    with pytest.raises(invalid, match="Missing header"):
        verify_webhook(secret, {"webhook-id": "msg_1"}, body, now=timestamp)


def test_documented_rotation_header_verifies_with_either_secret(verify_webhook_namespace):
    # given the two-signature header shown in the rotation section
    verify_webhook = verify_webhook_namespace["verify_webhook"]
    (rotation_block,) = [b for b in code_blocks("webhooks", "text") if "webhook-signature" in b]
    signatures = rotation_block.split(":", 1)[1].strip()
    old_secret = table_value("webhooks", "Secret")
    new_secret = re.search(r"the second signature uses the secret\s+`([^`]+)`", source("webhooks"))
    timestamp = table_value("webhooks", "`webhook-timestamp`")
    headers = {
        "webhook-id": table_value("webhooks", "`webhook-id`"),
        "webhook-timestamp": timestamp,
        "webhook-signature": signatures,
    }
    body = table_value("webhooks", "Body").encode()

    # then both the old and the new secret verify it
    assert new_secret
    for secret in (old_secret, new_secret.group(1)):
        assert verify_webhook(secret, headers, body, now=int(timestamp))["type"] == "webhook.test"


# --- API keys -------------------------------------------------------------------


def test_documented_checksum_code_accepts_the_example_keys_and_catches_typos():
    has_valid_checksum = namespace_of_block_defining("authentication", "has_valid_checksum")[
        "has_valid_checksum"
    ]
    example_keys = set(KEY.findall(source("authentication")))

    assert example_keys
    for key in example_keys:
        assert has_valid_checksum(key), key
        typo = key[:-7] + ("A" if key[-7] != "A" else "B") + key[-6:]
        assert not has_valid_checksum(typo)
        assert not has_valid_checksum(key[:-1])
    assert not has_valid_checksum("sk_test_" + "a" * 38)


# --- Every page -----------------------------------------------------------------


@pytest.mark.parametrize("slug", sorted(PAGES))
def test_python_examples_compile(slug):
    for number, block in enumerate(code_blocks(slug, "python"), start=1):
        compile(block, f"{slug}.md python block {number}", "exec")


@pytest.mark.parametrize("slug", sorted(PAGES))
def test_every_code_block_names_its_language_and_highlights_without_errors(slug):
    assert all(language for language, _code in FENCED_BLOCK.findall(source(slug)))
    assert 'class="err"' not in PAGES[slug].html


@pytest.mark.parametrize("slug", sorted(PAGES))
def test_links_lead_to_existing_pages_sections_and_portal_urls(slug):
    links = links_of(PAGES[slug].html)

    for href in links.hrefs:
        url = urlsplit(href)
        if url.scheme:
            assert url.scheme == "https" and url.hostname in ALLOWED_HOSTS, href
            continue
        if not url.path:
            assert url.fragment in links.ids, href
        elif url.path.startswith("/docs/"):
            target = url.path.removeprefix("/docs/").strip("/")
            assert target in PAGES, href
            if url.fragment:
                assert url.fragment in links_of(PAGES[target].html).ids, href
        else:
            try:
                resolve(url.path)
            except Resolver404:
                pytest.fail(f"{slug}: {href} is not a portal URL")


@pytest.mark.parametrize("slug", sorted(PAGES))
def test_absolute_urls_use_only_the_example_host_or_real_references(slug):
    hosts = {urlsplit(url).hostname for url in re.findall(r"https?://[^\s`\"')<>]+", source(slug))}

    assert hosts <= ALLOWED_HOSTS


def test_error_type_urls_point_at_sections_of_the_errors_page():
    ids = links_of(PAGES["errors"].html).ids
    everywhere = "".join(source(slug) for slug in PAGES)
    fragments = set(re.findall(r"https://portal\.example\.com/docs/errors/#([\w-]+)", everywhere))

    assert fragments
    assert fragments <= ids


def test_every_error_code_mentioned_has_its_own_section():
    ids = links_of(PAGES["errors"].html).ids
    codes = set(re.findall(r"`([A-Z]+(?:_[A-Z]+)*)`", "".join(source(s) for s in PAGES)))
    codes -= {"GET", "POST", "UTC", "JSON"}

    assert {"NOT_FOUND", "BAD_CHECKSUM", "EXPIRED", "REVOKED", "FORBIDDEN"} <= codes
    assert {"MALFORMED_KEY", "WRONG_ENVIRONMENT", "RATE_LIMITED"} <= codes
    assert {code.lower() for code in codes} <= ids
