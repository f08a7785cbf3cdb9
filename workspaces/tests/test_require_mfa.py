"""An organization that requires two-factor authentication of every member."""

import html
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from audit.models import Action, AuditEvent
from onboarding.review.evidence import checks_for
from workspaces.models import Organization, Workspace
from workspaces.roles import Role


def text_of(response) -> str:
    return " ".join(html.unescape(response.content.decode()).split())


@pytest.fixture
def acme(organization_factory, membership_factory, workspace_factory, user_factory):
    owner = user_factory(full_name="Olive Owner", mfa=True)
    organization = organization_factory(name="Acme", slug="acme", created_by=owner)
    membership_factory(user=owner, organization=organization, roles=[Role.OWNER])
    workspace_factory(organization=organization, name="Payouts", slug="payouts")
    return organization


@pytest.fixture
def required(acme):
    Organization.objects.filter(pk=acme.pk).update(require_mfa=True)
    acme.refresh_from_db()
    return acme


def reauthenticate(client, password) -> None:
    response = client.post(reverse("account_reauthenticate"), {"password": password})
    assert response.status_code == 302


SETTINGS = reverse("organization_settings", args=["acme"])


# --- the setting ---------------------------------------------------------------------------

@pytest.mark.django_db
def test_an_owner_requires_two_factor_after_confirming_their_password(
        client, acme, password, membership_factory):
    # Given an Owner with two-factor authentication and a developer without it
    membership_factory(organization=acme, roles=[Role.DEVELOPER],
                       user__full_name="Dev Nofactor")
    client.force_login(acme.created_by)
    page = text_of(client.get(SETTINGS))
    assert "Not required" in page
    assert "Without two-factor authentication today: Dev Nofactor." in page

    # When they save without having confirmed their password lately
    response = client.post(SETTINGS, {"require_mfa": "on"})

    # Then they are asked for it first and nothing changes
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    acme.refresh_from_db()
    assert acme.require_mfa is False

    # When they confirm it and save
    reauthenticate(client, password)
    response = client.post(SETTINGS, {"require_mfa": "on"}, follow=True)

    # Then it is required, the page says so, and the change is an audit event
    acme.refresh_from_db()
    assert acme.require_mfa is True
    page = text_of(response)
    assert "Two-factor authentication is now required of every member." in page
    assert "Every member needs an authenticator app or a security key" in page
    event = AuditEvent.objects.get(action=Action.MFA_REQUIRED)
    assert (event.actor, event.organization) == (acme.created_by, acme)


@pytest.mark.django_db
def test_turning_it_off_is_an_audit_event_too(client, required, password):
    client.force_login(required.created_by)
    reauthenticate(client, password)

    page = text_of(client.post(SETTINGS, {}, follow=True))

    required.refresh_from_db()
    assert required.require_mfa is False
    assert "Two-factor authentication is no longer required." in page
    assert AuditEvent.objects.filter(action=Action.MFA_NOT_REQUIRED).count() == 1


@pytest.mark.django_db
def test_an_owner_without_two_factor_cannot_require_it(
        client, acme, password, membership_factory, user_factory):
    second_owner = user_factory()
    membership_factory(user=second_owner, organization=acme, roles=[Role.OWNER])
    client.force_login(second_owner)
    reauthenticate(client, password)

    response = client.post(SETTINGS, {"require_mfa": "on"})

    assert response.status_code == 400
    assert "Turn on two-factor authentication for yourself first." in text_of(response)
    acme.refresh_from_db()
    assert acme.require_mfa is False
    assert not AuditEvent.objects.filter(action=Action.MFA_REQUIRED).exists()


@pytest.mark.parametrize("role", [Role.TECHNICAL_LEAD, Role.SECURITY_OWNER, Role.VIEWER])
@pytest.mark.django_db
def test_only_owners_open_the_settings(client, acme, membership_factory, role):
    member = membership_factory(organization=acme, roles=[role], user__mfa=True)
    client.force_login(member.user)

    response = client.get(SETTINGS)

    assert response.status_code == 403
    assert "Owner" in text_of(response)


# --- enforcement ---------------------------------------------------------------------------

ORG_AND_WORKSPACE_PAGES = [("organization_home", ["acme"]),
                           ("workspace_overview", ["acme", "payouts"]),
                           ("key_list", ["acme", "payouts", "sandbox"])]


@pytest.mark.parametrize(("name", "args"), ORG_AND_WORKSPACE_PAGES)
@pytest.mark.django_db
def test_a_member_without_two_factor_is_sent_to_set_it_up(
        client, required, membership_factory, name, args):
    member = membership_factory(organization=required, roles=[Role.DEVELOPER])
    client.force_login(member.user)

    response = client.get(reverse(name, args=args), follow=True)

    assert response.redirect_chain[0] == (reverse("mfa_index"), 302)
    assert ("Acme requires two-factor authentication. Set up an authenticator app or a "
            "security key to open its pages.") in text_of(response)


@pytest.mark.parametrize(("name", "args"), ORG_AND_WORKSPACE_PAGES)
@pytest.mark.django_db
def test_a_member_with_two_factor_opens_the_pages(
        client, required, membership_factory, name, args):
    member = membership_factory(organization=required, roles=[Role.DEVELOPER],
                                user__mfa=True)
    client.force_login(member.user)

    response = client.get(reverse(name, args=args))

    assert response.status_code == 200
    assert "requires two-factor authentication" not in text_of(response)


@pytest.mark.django_db
def test_the_setup_the_access_page_and_sign_out_stay_reachable(
        client, required, membership_factory):
    member = membership_factory(organization=required, roles=[Role.DEVELOPER])
    client.force_login(member.user)

    assert "Two-Factor Authentication" in text_of(client.get(reverse("mfa_index")))
    assert "Account access" in text_of(client.get(reverse("access")))
    assert client.get(reverse("mfa_activate_totp")).status_code in (200, 302)
    client.post(reverse("account_logout"))
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_the_requirement_applies_only_to_the_organization_that_set_it(
        client, required, membership_factory, organization_factory, workspace_factory):
    member = membership_factory(organization=required, roles=[Role.DEVELOPER])
    other = organization_factory(name="Beta", slug="beta")
    membership_factory(user=member.user, organization=other, roles=[Role.DEVELOPER])
    client.force_login(member.user)

    assert client.get(reverse("organization_home", args=["beta"])).status_code == 200
    assert client.get(reverse("organization_home", args=["acme"])).status_code == 302


@pytest.mark.django_db
def test_an_outsider_still_gets_404_not_a_hint(client, required, user_factory):
    client.force_login(user_factory())

    assert client.get(reverse("organization_home", args=["acme"])).status_code == 404
    assert client.get(reverse("workspace_overview", args=["acme", "payouts"])
                      ).status_code == 404


# --- the members page -------------------------------------------------------------------------

@pytest.mark.parametrize("size", [10, 200])
@pytest.mark.django_db
def test_the_members_page_shows_mfa_and_last_sign_in_in_constant_queries(
        client, acme, membership_factory, size, django_assert_max_num_queries):
    for i in range(size):
        membership_factory(organization=acme, roles=[Role.DEVELOPER],
                           user__full_name=f"Member {i:03d}", user__mfa=i % 2 == 0)
    signed = membership_factory(organization=acme, roles=[Role.VIEWER],
                                user__full_name="Aaron Signed").user
    signed.last_login = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)
    signed.save(update_fields=["last_login"])
    client.force_login(acme.created_by)
    url = reverse("members", args=["acme"])
    client.get(url)

    with django_assert_max_num_queries(14):
        page = text_of(client.get(url))

    row = page.split("Aaron Signed", 1)[1].split("</tr>", 1)[0]
    assert '<span class="badge badge--warn">Off</span>' in row
    assert "3 Nov 2026, 09:30" in row
    first = page.split("Member 000", 1)[1].split("</tr>", 1)[0]
    assert '<span class="badge badge--ok">On</span>' in first
    second = page.split("Member 001", 1)[1].split("</tr>", 1)[0]
    assert '<span class="badge badge--warn">Off</span>' in second
    assert "Never" in second


# --- the audit-ready check ---------------------------------------------------------------------

@pytest.mark.parametrize(("on", "passed", "detail"), [
    (True, True, "Required of every member"),
    (False, False, "Recommended, not required"),
])
@pytest.mark.django_db
def test_the_audit_ready_check_reads_the_setting(acme, on, passed, detail):
    Organization.objects.filter(pk=acme.pk).update(require_mfa=on)
    workspace = Workspace.objects.get(organization=acme)

    check = {c.key: c for c in checks_for("audit", workspace)}["mfa_required"]

    assert check.label == "Two-factor authentication required for the organization"
    assert (check.passed, check.detail.startswith(detail)) == (passed, True)
    assert check.fix_url == ("" if on else SETTINGS)
