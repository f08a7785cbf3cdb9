"""The public Gateway API page lists exactly the reason codes the code answers with."""

import re
from pathlib import Path

from django.conf import settings

from docs.pages import CONTENT_DIR

ROOT = Path(settings.BASE_DIR)
ROW = re.compile(r"^\| ([A-Z]+(?:_[A-Z]+)*) \|", re.MULTILINE)


def section(title: str) -> str:
    text = (CONTENT_DIR / "gateway-api.md").read_text(encoding="utf-8")
    return text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def codes_in(path: str, pattern: str) -> set[str]:
    return set(re.findall(pattern, (ROOT / path).read_text(encoding="utf-8")))


def test_every_verification_code_is_documented_and_nothing_else():
    in_code = (codes_in("keys/selectors.py", r'Verification\("([A-Z_]+)"')
               | codes_in("keys/secrets.py", r'KeyFormatError\("([A-Z_]+)"'))

    assert set(ROW.findall(section("Verify a key"))) == in_code
    assert "WRONG_ENVIRONMENT" in in_code and "VALID" in in_code


def test_every_error_code_of_the_two_endpoints_is_documented_and_nothing_else():
    problem = r'problem\(\s*\d+, "([A-Z_]+)"'
    in_code = (codes_in("keys/gateway.py", problem) | codes_in("usage/views.py", problem)
               | codes_in("keys/views.py", problem))

    assert set(ROW.findall(section("Errors of the gateway API"))) == in_code
    assert {"UNAUTHENTICATED", "PAYLOAD_TOO_LARGE"} <= in_code
