"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live_server."""

import os
import re
from pathlib import Path

import pytest

# live_server runs Django in a thread of this process; Playwright's sync API runs an
# event loop in the test thread, which Django would otherwise take for async code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).parent / "screenshots"


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": ARGS}


@pytest.fixture
def shoot(page, request):
    """Save a numbered full-page screenshot of each step under e2e/screenshots/<test>/."""
    folder = SCREENSHOTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    folder.mkdir(parents=True, exist_ok=True)
    counter = iter(range(1, 1000))

    def take(step: str) -> None:
        page.screenshot(path=folder / f"{next(counter):02d}-{step}.png", full_page=True)

    take.folder = folder
    return take


def sign_in_with_totp(page, base: str, email: str, password: str, totp_secret: str = "",
                      start: str = "/accounts/login/") -> None:
    """Sign in through allauth from `start`, answering the TOTP step with the current
    code when the account has one."""
    from accounts.tests.factories import totp_code

    page.goto(f"{base}{start}")
    page.get_by_label("Email").fill(email)
    page.get_by_label(re.compile(r"^Password:?$")).fill(password)
    page.get_by_role("button", name="Sign In").click()
    if totp_secret:
        field = page.get_by_label(re.compile("code", re.IGNORECASE))
        field.wait_for()
        # A browser step can take seconds on a busy machine: a code with room to spare.
        field.fill(totp_code(totp_secret, valid_for=12))
        page.get_by_role("button", name=re.compile("Sign In|Confirm", re.IGNORECASE)).click()


def sign_in_to_admin(page, base: str, email: str, password: str, totp_secret: str = "") -> None:
    """Staff sign in through allauth: the admin's own login redirects there."""
    sign_in_with_totp(page, base, email, password, totp_secret, start="/admin/")
    page.wait_for_url(re.compile(r"/admin/$"))


@pytest.fixture(autouse=True)
def _links_in_emails_point_at_the_live_server(request, settings):
    """Services write absolute links from SITE_URL, as in a deployment; here the portal
    is pytest-django's live_server."""
    if "live_server" in request.fixturenames:
        settings.SITE_URL = request.getfixturevalue("live_server").url
