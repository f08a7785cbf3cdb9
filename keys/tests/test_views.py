import logging
import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from keys.models import ApiKey
from keys.tests.factories import approve_sandbox, issue
from workspaces.roles import Role

TOKEN = "dev-gateway-token"


def url(workspace, name, *args):
    return reverse(name, args=[workspace.organization.slug, workspace.slug, *args])


@pytest.fixture
def sandbox(workspace):
    return approve_sandbox(workspace)


def reauthenticated(client, password):
    """allauth asks for the password again before revoking or rotating."""
    client.post(reverse("account_reauthenticate"), {"password": password})
    return client


@pytest.mark.django_db
def test_the_secret_is_shown_once_and_never_again_anywhere(
    client, sandbox, owner, password, caplog, user_factory
):
    caplog.set_level(logging.DEBUG)
    client.force_login(owner)

    response = client.post(url(sandbox, "key_issue", "sandbox"),
                           {"name": "web app", "scopes": ["accounts:read"]})

    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    key = ApiKey.objects.get()
    secret = response.context["secret"]
    assert secret.endswith(key.last4) and secret in response.content.decode()
    assert "curl -s http://testserver/sandbox/v1/ping" in response.content.decode()
    pages = [url(sandbox, "key_list", "sandbox"), url(sandbox, "key_list", "production"),
             url(sandbox, "workspace_overview"), url(sandbox, "workspace_history"),
             reverse("organization_audit", args=[sandbox.organization.slug]), reverse("access")]
    reauthenticated(client, password)
    pages += [url(sandbox, "key_revoke", "sandbox", key.public_id),
              url(sandbox, "key_rotate", "sandbox", key.public_id)]
    for page in pages:
        assert secret not in client.get(page).content.decode(), page
    admin = user_factory(is_staff=True, is_superuser=True, mfa=True)
    client.force_login(admin)
    for page in [reverse("admin:audit_auditevent_changelist"),
                 reverse("admin:audit_auditevent_change", args=[AuditEvent.objects.last().pk])]:
        assert secret not in client.get(page).content.decode()
    assert secret not in caplog.text
    assert all(secret not in m.body for m in mail.outbox)
    assert secret not in str(list(AuditEvent.objects.values()))
    assert secret not in str(list(ApiKey.objects.values()))


@pytest.mark.django_db
def test_bad_issue_input_stays_next_to_the_field(client, sandbox, owner):
    client.force_login(owner)

    response = client.post(url(sandbox, "key_issue", "sandbox"),
                           {"name": "  ", "scopes": ["admin:all"], "expires_at": "yesterday"})

    assert response.status_code == 400
    text = response.content.decode()
    assert "This field is required." in text
    assert "Select a valid choice. admin:all is not one of the available choices." in text
    assert "Enter a valid date/time." in text
    assert not ApiKey.objects.exists()


@pytest.mark.django_db
def test_revoking_needs_reauthentication_then_works(client, sandbox, owner, password):
    key, _ = issue(sandbox, owner)
    client.force_login(owner)
    revoke = url(sandbox, "key_revoke", "sandbox", key.public_id)

    first = client.post(revoke)
    assert first.status_code == 302
    assert first["Location"].startswith(reverse("account_reauthenticate"))
    assert ApiKey.objects.get().revoked_at is None

    reauthenticated(client, password).post(revoke)
    assert ApiKey.objects.get().revoked_at is not None


@pytest.mark.django_db
def test_rotation_page_shows_the_new_secret_once_and_the_old_keys_deadline(
    client, sandbox, owner, password
):
    key, _ = issue(sandbox, owner)
    client.force_login(owner)
    reauthenticated(client, password)

    response = client.post(url(sandbox, "key_rotate", "sandbox", key.public_id),
                           {"overlap_hours": "48"})

    assert response.status_code == 200
    assert response.context["secret"].startswith("sk_sandbox_")
    assert "keeps working until" in response.content.decode()
    assert ApiKey.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "sandbox_status", "production_status"), [
    (Role.DEVELOPER, 200, 200), (Role.VIEWER, 200, 403), (Role.BILLING_CONTACT, 403, 403),
    (Role.SECURITY_OWNER, 200, 200),
])
def test_who_sees_which_key_list(sandbox, member_client, role, sandbox_status,
                                 production_status):
    client, _ = member_client(sandbox.organization, role)

    assert client.get(url(sandbox, "key_list", "sandbox")).status_code == sandbox_status
    assert client.get(url(sandbox, "key_list", "production")).status_code == production_status


@pytest.mark.django_db
def test_developer_cannot_issue_production_keys_even_after_approval(sandbox, member_client):
    sandbox.production_approved_at = timezone.now()
    sandbox.save()
    client, _ = member_client(sandbox.organization, Role.DEVELOPER)

    response = client.post(url(sandbox, "key_issue", "production"),
                           {"name": "x", "scopes": ["accounts:read"]})

    assert response.status_code == 403
    assert not ApiKey.objects.exists()


@pytest.mark.django_db
def test_production_tab_says_what_is_missing_and_stage_follows_the_environment(
    client, sandbox, owner
):
    client.force_login(owner)

    production = client.get(url(sandbox, "key_list", "production")).content.decode()
    assert "Production keys are locked" in production
    assert "stage-band--account" in production
    assert "stage-band--sandbox" in client.get(url(sandbox, "key_list", "sandbox")
                                               ).content.decode()
    sandbox.production_approved_at = timezone.now()
    sandbox.save()
    assert "stage-band--production" in client.get(url(sandbox, "key_list", "production")
                                                  ).content.decode()


@pytest.mark.django_db
def test_key_list_queries_are_bounded(client, sandbox, owner, django_assert_max_num_queries,
                                      settings):
    settings.MAX_ACTIVE_KEYS_PER_WORKSPACE = 100
    for n in range(30):
        issue(sandbox, owner, name=f"key {n}")
    client.force_login(owner)
    client.get(url(sandbox, "key_list", "sandbox"))

    with django_assert_max_num_queries(14):
        assert client.get(url(sandbox, "key_list", "sandbox")).status_code == 200


@pytest.mark.django_db
def test_gateway_verify_requires_the_service_token(client):
    response = client.post(reverse("gateway_verify"), {"key": "x"},
                           content_type="application/json")

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "UNAUTHENTICATED"


@pytest.mark.django_db
def test_gateway_verify_answers_every_code(client, sandbox, owner):
    key, secret = issue(sandbox, owner, scopes=["accounts:read"])
    revoked, revoked_secret = issue(sandbox, owner, name="old")
    from keys import services

    services.revoke_key(actor=owner, workspace=sandbox, public_id=revoked.public_id)

    def call(**body):
        return client.post(reverse("gateway_verify"), body, content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {TOKEN}").json()

    valid = call(key=secret, environment="sandbox", scope="accounts:read")
    assert valid == {"valid": True, "code": "VALID", "message": "The key is valid.",
                     "key_id": key.public_id,
                     "workspace": f"{sandbox.organization.slug}/{sandbox.slug}",
                     "environment": "sandbox", "scopes": ["accounts:read"]}
    assert call(key=secret, scope="transactions:read")["code"] == "FORBIDDEN"
    assert call(key=secret, environment="production")["code"] == "WRONG_ENVIRONMENT"
    assert call(key=revoked_secret)["code"] == "REVOKED"
    assert call(key=secret[:-1] + ("A" if secret[-1] != "A" else "B"))["code"] == "BAD_CHECKSUM"
    assert call(key="sk_sandbox_nope")["code"] == "MALFORMED_KEY"
    from keys.secrets import generate

    assert call(key=generate("sandbox"))["code"] == "NOT_FOUND"
    bad = client.post(reverse("gateway_verify"), "not json", content_type="application/json",
                      HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert (bad.status_code, bad.json()["code"]) == (400, "INVALID_REQUEST")


@pytest.mark.django_db
def test_machine_answers_carry_a_fixed_policy_and_pages_keep_theirs(client, sandbox, owner):
    _, secret = issue(sandbox, owner)
    verified = client.post(reverse("gateway_verify"), {"key": secret},
                           content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    refused = client.post(reverse("gateway_verify"), {"key": secret},
                          content_type="application/json")
    sandbox_call = client.get("/sandbox/v1/ping", HTTP_AUTHORIZATION=f"Bearer {secret}")
    page = client.get(reverse("docs:index"))

    for answer in (verified, refused, sandbox_call):
        assert answer["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert "default-src 'self'" in page["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"]


@pytest.mark.django_db
def test_the_key_list_shows_fifty_keys_a_page_newest_first(client, workspace, owner):
    approve_sandbox(workspace)
    for n in range(60):
        issue(workspace, owner, name=f"key {n:02d}")
        if n % 10 == 9:  # ten active keys at most: retire them, as rotations would
            ApiKey.objects.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
    client.force_login(owner)
    first = reverse("key_list", args=[workspace.organization.slug, workspace.slug, "sandbox"])

    page_one = client.get(first).content.decode()
    older = re.search(r'href="(\?[^"]+)" rel="next"', page_one).group(1)
    page_two = client.get(first + older).content.decode()

    names = re.findall(r"<strong>(key \d\d)</strong>", page_one + page_two)
    assert names == [f"key {n:02d}" for n in range(59, -1, -1)]
    assert 'rel="next"' not in page_two and "← Newest" in page_two
