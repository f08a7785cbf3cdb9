"""No stock django-allauth page is reachable: every one renders in the portal's layout.

The URL patterns come from `allauth.urls` itself, so a page added by an allauth
upgrade is checked without anyone listing it here. Each page is opened, following
redirects, by visitors in different states:

- anonymous;
- signed in (a session, but no recent password entry: sensitive pages ask to
  reauthenticate first);
- reauthenticated (just confirmed their password: the sensitive pages themselves);
- reauthenticated with two-factor authentication (TOTP and recovery codes) and an
  email change waiting for verification.

Pages that only appear in the middle of a flow (the two-factor step of sign-in, a
valid reset link...) are walked through their flow. Every HTML page that answers 200
must show our header and stage band, and carry no inline script (other than JSON
data blocks) and no inline style, which our Content-Security-Policy blocks anyway.
"""

from html.parser import HTMLParser
from pathlib import Path

import allauth
import pytest
from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from allauth.account.utils import user_pk_to_url_str
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from allauth.mfa.webauthn.internal.auth import WebAuthn
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

# --- The allauth pages -------------------------------------------------------------


def _allauth_patterns(patterns=None, params=frozenset()):
    """(name, URL parameter names) of every page in allauth.urls, nested includes too."""
    if patterns is None:
        patterns = get_resolver("allauth.urls").url_patterns
    for entry in patterns:
        names = params | set(entry.pattern.regex.groupindex)
        if isinstance(entry, URLResolver):
            yield from _allauth_patterns(entry.url_patterns, frozenset(names))
        elif isinstance(entry, URLPattern):
            yield entry.name, frozenset(names)


ALLAUTH_PATTERNS = sorted(_allauth_patterns(), key=lambda item: str(item[0]))
PAGES_WITHOUT_ARGUMENTS = [name for name, params in ALLAUTH_PATTERNS if not params]

# Pages opened from a link in an email: a made-up key must give an "invalid or
# expired link" page that offers a new link.
BAD_LINK_KWARGS = {
    "account_confirm_email": {"key": "not-a-real-key"},
    "account_reset_password_from_key": {"uidb36": "0", "key": "not-a-real-key"},
}

# Pages about one of the user's own objects; they have their own test below.
NEEDS_AN_OBJECT = {"mfa_edit_webauthn", "mfa_remove_webauthn"}

# Pages about two-factor authentication the visitor has not set up: allauth answers 404.
NOT_FOUND_WITHOUT_MFA = {
    "mfa_deactivate_totp", "mfa_view_recovery_codes", "mfa_download_recovery_codes",
}

VISITORS = ["anonymous", "signed_in", "reauthenticated", "with_mfa"]


# --- What "in our layout" means -----------------------------------------------------


class _PageParts(HTMLParser):
    """What a strict CSP (script-src/style-src 'self') would block, and button links."""

    def __init__(self) -> None:
        super().__init__()
        self.inline_scripts: list[str] = []
        self.style_attributes: list[str] = []
        self.style_elements = 0
        self.button_hrefs: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        attributes = dict(attrs)
        if "style" in attributes:
            self.style_attributes.append(f"<{tag} style={attributes['style']!r}>")
        if tag == "style":
            self.style_elements += 1
        script_type = (attributes.get("type") or "").lower()
        if tag == "script" and "src" not in attributes and script_type != "application/json":
            self.inline_scripts.append(f"<script {attributes}>")
        if tag == "a" and "button" in (attributes.get("class") or "").split():
            self.button_hrefs.append(attributes.get("href") or "")


def page_parts(html: str) -> _PageParts:
    parts = _PageParts()
    parts.feed(html)
    return parts


def assert_in_portal_layout(response) -> None:
    html = response.content.decode()
    where = response.request["PATH_INFO"]
    assert 'class="site-header"' in html, f"{where} lacks the portal header"
    assert 'class="stage-band' in html, f"{where} lacks the stage band"
    parts = page_parts(html)
    assert parts.inline_scripts == [], f"{where} has inline script"
    assert parts.style_attributes == [], f"{where} has style attributes"
    assert parts.style_elements == 0, f"{where} has <style> elements"
    assert 'style="' not in html, f"{where} has an inline style"


def is_html(response) -> bool:
    return response.get("Content-Type", "").startswith("text/html")


# --- Visitors -----------------------------------------------------------------------


def reauthenticate(client, password) -> None:
    response = client.post(reverse("account_reauthenticate"), {"password": password})
    assert response.status_code == 302, "reauthenticating with the right password failed"


@pytest.fixture
def visitor(request, client, user, password):
    """A test client for one kind of visitor (see VISITORS), by name."""

    def make(kind: str):
        if kind == "anonymous":
            return client
        if kind == "signed_in":
            return request.getfixturevalue("signed_in_client")
        client.force_login(user)
        if kind == "with_mfa":
            TOTP.activate(user, generate_totp_secret())
            RecoveryCodes.activate(user)
            EmailAddress.objects.create(user=user, email="new-address@example.com")
        reauthenticate(client, password)
        return client

    return make


# --- Flows that lead to pages no plain GET reaches ----------------------------------


def _two_factor_step_of_sign_in(client, user, password):
    TOTP.activate(user, generate_totp_secret())
    return client.post(
        reverse("account_login"), {"login": user.email, "password": password}, follow=True
    )


def _valid_password_reset_link(client, user, password):
    url = reverse("account_reset_password_from_key", kwargs={
        "uidb36": user_pk_to_url_str(user), "key": default_token_generator.make_token(user),
    })
    return client.get(url, follow=True)


def _valid_email_confirmation_link(client, user, password):
    address = EmailAddress.objects.create(user=user, email="second@example.com")
    url = reverse("account_confirm_email", kwargs={"key": EmailConfirmationHMAC(address).key})
    return client.get(url, follow=True)


def _password_reset_requested(client, user, password):
    return client.post(reverse("account_reset_password"), {"email": user.email}, follow=True)


def _signed_up(client, user, password):
    return client.post(reverse("account_signup"), {
        "full_name": "Dana Lee", "email": "dana@example.com",
        "password1": "a-long-enough-password", "password2": "a-long-enough-password",
    }, follow=True)


def _reauthentication_code_requested(client, user, password):
    client.force_login(user)
    return client.post(
        reverse("account_request_reauthentication_code"), {"recipient": user.email},
        follow=True,
    )


FLOWS = {
    "two-factor step of sign-in": (_two_factor_step_of_sign_in, "mfa_authenticate"),
    "valid password reset link": (_valid_password_reset_link, None),
    "valid email confirmation link": (_valid_email_confirmation_link, None),
    "password reset requested": (_password_reset_requested, "account_reset_password_done"),
    "signed up": (_signed_up, "account_email_verification_sent"),
    "reauthentication code requested": (
        _reauthentication_code_requested, "account_confirm_reauthentication_code",
    ),
}


# --- Tests --------------------------------------------------------------------------


def test_the_walk_finds_allauths_pages():
    # Given the URL patterns enumerated from allauth.urls
    names = {name for name, _params in ALLAUTH_PATTERNS}

    # Then every one has a name, and the pages the portal relies on are among them
    assert None not in names
    assert {
        "account_login", "account_signup", "account_reset_password", "account_email",
        "account_change_password", "account_reauthenticate", "mfa_index",
        "mfa_activate_totp", "mfa_view_recovery_codes", "mfa_list_webauthn",
        "usersessions_list", "account_logout",
    } <= names


def test_every_allauth_page_with_url_arguments_is_accounted_for():
    # Given the allauth pages whose URLs take arguments
    with_arguments = {name for name, params in ALLAUTH_PATTERNS if params}

    # Then each is opened with a bad key or has its own test, so an allauth upgrade
    # cannot add one that goes unchecked
    assert with_arguments == set(BAD_LINK_KWARGS) | NEEDS_AN_OBJECT


@pytest.mark.django_db
@pytest.mark.parametrize("kind", VISITORS)
@pytest.mark.parametrize("url_name", PAGES_WITHOUT_ARGUMENTS)
def test_every_allauth_page_renders_in_the_portal_layout(url_name, kind, visitor):
    # Given a visitor in that state
    browser = visitor(kind)

    # When they open the allauth page and follow any redirects
    response = browser.get(reverse(url_name), follow=True)

    # Then it answers (404 only for two-factor pages of someone without it), and an
    # HTML page is ours
    if url_name in NOT_FOUND_WITHOUT_MFA and kind in ("signed_in", "reauthenticated"):
        assert response.status_code == 404
        return
    assert response.status_code == 200, (url_name, response.redirect_chain)
    if is_html(response):
        assert_in_portal_layout(response)


@pytest.mark.django_db
@pytest.mark.parametrize("flow", FLOWS)
def test_pages_in_the_middle_of_a_flow_render_in_the_portal_layout(
    flow, client, user, password
):
    # Given a visitor part-way through an allauth flow
    walk, expected_url_name = FLOWS[flow]

    # When they take the step that leads to the page
    response = walk(client, user, password)

    # Then the page they land on is ours
    assert response.status_code == 200
    if expected_url_name:
        assert response.request["PATH_INFO"] == reverse(expected_url_name)
    assert_in_portal_layout(response)


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["anonymous", "signed_in"])
@pytest.mark.parametrize("url_name", sorted(BAD_LINK_KWARGS))
def test_a_bad_emailed_link_says_it_is_invalid_or_expired_and_offers_a_new_one(
    url_name, kind, visitor
):
    # Given a visitor following a link from an email whose key is wrong or stale
    browser = visitor(kind)
    url = reverse(url_name, kwargs=BAD_LINK_KWARGS[url_name])

    # When they open it
    response = browser.get(url, follow=True)

    # Then our layout says the link is invalid or expired and offers the way to a new one
    assert response.status_code == 200
    assert_in_portal_layout(response)
    html = response.content.decode()
    assert "invalid or has expired" in html
    way_to_a_new_link = {
        ("account_confirm_email", "anonymous"): "account_login",
        ("account_confirm_email", "signed_in"): "account_email",
        ("account_reset_password_from_key", "anonymous"): "account_reset_password",
        ("account_reset_password_from_key", "signed_in"): "account_reset_password",
    }[url_name, kind]
    assert reverse(way_to_a_new_link) in page_parts(html).button_hrefs


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", sorted(NEEDS_AN_OBJECT))
def test_the_pages_about_ones_own_security_key_render_in_the_portal_layout(
    url_name, visitor, user
):
    # Given a reauthenticated user with a security key
    browser = visitor("reauthenticated")
    key = WebAuthn.add(
        user, "YubiKey 5C", {"clientExtensionResults": {"credProps": {"rk": False}}}
    )

    # When they open the page about that key
    response = browser.get(reverse(url_name, kwargs={"pk": key.instance.pk}), follow=True)

    # Then it is ours
    assert response.status_code == 200
    assert_in_portal_layout(response)


@pytest.mark.django_db
def test_a_failed_sign_in_keeps_the_email_and_shows_the_error_above_the_form(client, user):
    # Given the sign-in page
    url = reverse("account_login")

    # When someone signs in with the wrong password
    response = client.post(url, {"login": user.email, "password": "not-my-password"})

    # Then the form comes back in our layout, the error on top, the email kept
    assert response.status_code == 200
    assert_in_portal_layout(response)
    html = response.content.decode()
    assert '<ul class="errorlist nonfield" role="alert">' in html
    assert html.index("errorlist nonfield") < html.index('name="login"')
    assert f'value="{user.email}"' in html


@pytest.mark.django_db
def test_sign_up_errors_stand_next_to_their_fields_and_typed_values_stay(client):
    # Given the sign-up page, which asks for a full name too
    url = reverse("account_signup")

    # When someone submits it with a blank name
    response = client.post(url, {
        "full_name": "  ",
        "email": "new-person@example.com",
        "password1": "a-long-enough-password",
        "password2": "a-long-enough-password",
    })

    # Then the error sits in the name's own field, tied to its input, and the email stays
    assert response.status_code == 200
    assert_in_portal_layout(response)
    html = response.content.decode()
    name_field = html[html.index('<label for="id_full_name"'):]
    name_field = name_field[:name_field.index("</div>\n", name_field.index("<input"))]
    assert '<ul class="errorlist" id="id_full_name_error">' in name_field
    assert 'aria-invalid="true"' in name_field
    assert 'aria-describedby="id_full_name_helptext id_full_name_error"' in name_field
    assert 'value="new-person@example.com"' in html


def test_every_allauth_element_has_a_portal_version():
    # Given allauth's element templates, the pieces its pages are built from
    stock = Path(allauth.__file__).parent / "templates" / "allauth" / "elements"
    ours = Path(settings.BASE_DIR) / "templates" / "allauth" / "elements"

    # Then each one is overridden, so no allauth page shows an unstyled piece
    missing = {p.name for p in stock.glob("*.html")} - {p.name for p in ours.glob("*.html")}
    assert missing == set()
