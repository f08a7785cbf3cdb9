"""Domains proved by DNS: every lookup goes to a real DNS server on loopback."""

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.tests.factories import PASSWORD
from audit.models import Action, AuditEvent
from workspaces import domain_claims, tasks
from workspaces.domains import provider_kind, txt_name, txt_value
from workspaces.models import DomainClaim, DomainStatus
from workspaces.roles import Role
from workspaces.services.join_requests import joinable_organizations


@pytest.fixture
def dana(user_factory):
    return user_factory(email="dana@acme.test", full_name="Dana Lee")


@pytest.fixture
def acme(dana, organization_factory, membership_factory):
    organization = organization_factory(name="Acme", slug="acme", created_by=dana)
    membership_factory(user=dana, organization=organization, roles=[Role.OWNER])
    return organization


@pytest.fixture
def globex(user_factory, organization_factory, membership_factory):
    rival = user_factory(email="rita@globex.test", full_name="Rita Vale")
    organization = organization_factory(name="Globex", slug="globex", created_by=rival)
    membership_factory(user=rival, organization=organization, roles=[Role.OWNER])
    return organization


@pytest.fixture
def sam(user_factory):
    """A colleague with a verified acme.test address and no organization."""
    return user_factory(email="sam@acme.test")


def _claim(organization, domain="acme.test"):
    return domain_claims.claim_domain(actor=organization.created_by,
                                      organization=organization, domain=domain)


def _publish(dns, claim):
    dns.publish(txt_name(claim.domain), txt_value(claim.token))


def _check(claim):
    return domain_claims.check_domain(claim_id=claim.pk, actor=claim.claimed_by)


def _error_on(field, call) -> list[str]:
    with pytest.raises(ValidationError) as raised:
        call()
    return raised.value.message_dict[field]


# --- claiming -------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_claim_is_pending_with_its_own_token_until_dns_proves_it(dns, dana, acme, sam):
    claim = domain_claims.claim_domain(actor=dana, organization=acme, domain=" ACME.test. ")

    assert (claim.domain, claim.status, claim.claimed_by) == ("acme.test", "pending", dana)
    assert len(claim.token) >= 32
    assert txt_name(claim.domain) == "_portal-verification.acme.test"
    assert list(joinable_organizations(sam)) == []
    [event] = AuditEvent.objects.filter(action=Action.DOMAIN_CLAIMED)
    assert (event.actor, event.organization, event.details) == (
        dana, acme, {"domain": "acme.test"})


@pytest.mark.django_db
def test_the_record_found_verifies_the_domain_and_offers_ask_to_join(dns, acme, sam):
    claim = _claim(acme)
    _publish(dns, claim)

    checked = _check(claim)

    assert checked.status == DomainStatus.VERIFIED
    assert checked.verified_at is not None and checked.check_error == ""
    assert dns.resolver.queries == ["_portal-verification.acme.test"]
    assert list(joinable_organizations(sam)) == [acme]
    [event] = AuditEvent.objects.filter(action=Action.DOMAIN_VERIFIED)
    assert (event.actor, event.details) == (acme.created_by, {"domain": "acme.test"})


@pytest.mark.django_db
def test_without_the_record_the_claim_stays_pending_and_says_what_to_publish(dns, acme):
    claim = _claim(acme)
    dns.publish("_portal-verification.acme.test", "portal-verification=someone-elses-token")

    checked = _check(claim)

    assert checked.status == DomainStatus.PENDING
    assert checked.check_error == (f"No TXT record portal-verification={claim.token} at "
                                   "_portal-verification.acme.test yet.")
    assert not AuditEvent.objects.filter(action=Action.DOMAIN_VERIFIED).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("domain", "kind"), [
    ("gmail.com", "free"), ("outlook.com", "free"), ("proton.me", "free"),
    ("mailinator.com", "disposable"), ("10minutemail.com", "disposable"),
    ("eu.mailinator.com", "disposable"),
])
def test_free_and_disposable_providers_cannot_be_claimed(dns, acme, domain, kind):
    errors = _error_on("domain", lambda: _claim(acme, domain))

    assert errors == [f"{domain} is a {kind} email provider; anyone can have an address "
                      "there."]
    assert not DomainClaim.objects.exists()


def test_the_provider_lists_come_from_their_packages():
    assert provider_kind("yahoo.com") == "free"
    assert provider_kind("guerrillamail.com") == "disposable"
    assert provider_kind("acme.test") is None


@pytest.mark.django_db
@pytest.mark.parametrize("domain", ["localhost", "acme..test", "-acme.test", "acme.123",
                                    "a" * 64 + ".test"])
def test_a_malformed_domain_is_refused(dns, acme, domain):
    assert _error_on("domain", lambda: _claim(acme, domain)) == [
        "Enter a domain name, such as example.com."]


# --- several organizations --------------------------------------------------------------


@pytest.mark.django_db
def test_a_pending_claim_does_not_block_another_organization_from_proving_it(
    dns, acme, globex, sam
):
    squatter = _claim(globex)  # Globex claims but cannot publish the record
    claim = _claim(acme)
    _publish(dns, claim)

    assert _check(claim).status == DomainStatus.VERIFIED
    assert _check(squatter).status == DomainStatus.PENDING
    assert squatter.token != claim.token
    assert list(joinable_organizations(sam)) == [acme]
    errors = _error_on("domain", lambda: _claim(
        globex.__class__.objects.create(name="Initech", slug="initech",
                                        created_by=globex.created_by)))
    assert errors == ["acme.test is verified by another organization. Ask to join it, or "
                      "ask us to release it."]


@pytest.mark.django_db
def test_a_second_organization_with_its_record_published_is_told_another_was_first(
    dns, acme, globex
):
    first, second = _claim(acme), _claim(globex)
    _publish(dns, first)
    _publish(dns, second)

    _check(first)
    checked = _check(second)

    assert checked.status == DomainStatus.PENDING
    assert checked.check_error == ("Your record is in place, but another organization "
                                   "verified acme.test first.")


# --- re-checks ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_periodic_recheck_sends_a_domain_whose_record_disappeared_back_to_pending(
    dns, acme, sam, client
):
    claim = _claim(acme)
    _publish(dns, claim)
    _check(claim)
    dns.withdraw(txt_name(claim.domain))

    assert tasks.recheck_domains.delay().get() == 1

    claim.refresh_from_db()
    assert claim.status == DomainStatus.PENDING and claim.lost_at is not None
    assert list(joinable_organizations(sam)) == []
    [event] = AuditEvent.objects.filter(action=Action.DOMAIN_UNVERIFIED)
    assert (event.actor, event.organization) == (None, acme)
    client.force_login(acme.created_by)
    page = client.get(reverse("domains", args=[acme.slug])).content.decode()
    assert "Its record disappeared on" in page
    assert "The TXT record at _portal-verification.acme.test was not found on" in page


@pytest.mark.django_db
def test_a_dns_failure_changes_nothing_and_says_so(dns, acme):
    claim = _claim(acme)
    _publish(dns, claim)
    _check(claim)
    dns.resolver.failing = True

    checked = _check(claim)

    assert checked.status == DomainStatus.VERIFIED
    assert checked.check_error == "DNS could not answer the lookup."


@pytest.mark.django_db
def test_a_silent_dns_server_is_given_up_on_after_the_timeout(dns, acme):
    claim = _claim(acme)
    dns.resolver.silent = True

    checked = _check(claim)

    assert checked.status == DomainStatus.PENDING
    assert checked.check_error == "DNS did not answer in time."


@pytest.mark.django_db
def test_the_recheck_skips_pending_claims_older_than_a_week(dns, acme, globex):
    old = _claim(globex)
    DomainClaim.objects.filter(pk=old.pk).update(
        claimed_at=old.claimed_at - tasks.PENDING_RECHECK_FOR)
    _claim(acme)

    assert tasks.recheck_domains.delay().get() == 1
    assert dns.resolver.queries == ["_portal-verification.acme.test"]


# --- the page ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_owner_claims_checks_and_releases_on_the_domains_page(dns, client, acme, sam):
    client.force_login(acme.created_by)
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})  # claiming asks
    url = reverse("domains", args=[acme.slug])

    response = client.post(url, {"domain": "acme.test"}, follow=True)
    claim = DomainClaim.objects.get()
    page = response.content.decode()
    assert "acme.test is claimed. Publish the TXT record below, then check it." in page
    assert "_portal-verification.acme.test" in page
    assert f"portal-verification={claim.token}" in page
    assert "Pending" in page

    _publish(dns, claim)
    page = client.post(reverse("domain_check", args=[acme.slug, claim.pk]),
                       follow=True).content.decode()
    assert "acme.test is verified: people with a verified address there can ask to join Acme." \
        in page

    page = client.post(reverse("domain_release", args=[acme.slug, claim.pk]),
                       follow=True).content.decode()
    assert "acme.test is released." in page
    assert not DomainClaim.objects.exists()
    assert list(joinable_organizations(sam)) == []
    [event] = AuditEvent.objects.filter(action=Action.DOMAIN_RELEASED)
    assert event.details == {"domain": "acme.test", "status": "verified", "by_staff": False}


@pytest.mark.django_db
def test_the_page_refuses_a_free_provider_next_to_the_field(dns, client, acme):
    client.force_login(acme.created_by)
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})  # claiming asks

    response = client.post(reverse("domains", args=[acme.slug]), {"domain": "gmail.com"})

    assert response.status_code == 400
    assert "gmail.com is a free email provider" in response.content.decode()


@pytest.mark.django_db
def test_a_member_who_is_not_an_owner_cannot_check_or_release(dns, client, acme,
                                                               member_client):
    claim = _claim(acme)
    developer, _ = member_client(acme, Role.DEVELOPER)

    for name in ["domain_check", "domain_release"]:
        response = developer.post(reverse(name, args=[acme.slug, claim.pk]))
        assert response.status_code == 403
    assert DomainClaim.objects.get().status == DomainStatus.PENDING


@pytest.mark.django_db
def test_platform_staff_release_a_claim_in_the_admin(dns, client, acme, user_factory):
    claim = _claim(acme)
    _publish(dns, claim)
    _check(claim)
    staff = user_factory(email="ops@platform.test", is_staff=True, mfa=True)
    staff.user_permissions.add(*Permission.objects.filter(
        codename__in=["view_domainclaim", "delete_domainclaim"]))
    client.force_login(staff)

    response = client.post(reverse("admin:workspaces_domainclaim_changelist"), {
        "action": "release", "_selected_action": [claim.pk]}, follow=True)

    assert "Released 1 domain claim(s)." in response.content.decode()
    assert not DomainClaim.objects.exists()
    [event] = AuditEvent.objects.filter(action=Action.DOMAIN_RELEASED)
    assert (event.actor, event.details["by_staff"]) == (staff, True)


# --- the access page ----------------------------------------------------------------------


@pytest.mark.django_db
def test_someone_with_their_own_organization_is_told_their_companys_exists(
    dns, client, acme, sam, organization_factory, membership_factory, verify_domain
):
    own = organization_factory(name="Sam's sandbox", created_by=sam)
    membership_factory(user=sam, organization=own, roles=[Role.OWNER])
    client.force_login(sam)
    assert "Ask to join your company" not in client.get(reverse("access")).content.decode()

    verify_domain(actor=acme.created_by, organization=acme, domain="acme.test")
    page = client.get(reverse("access")).content.decode()

    assert "<strong>Acme</strong>\n        verified your email domain in the portal: your " \
           "colleagues may already work there." in page
    client.post(reverse("access_join_request_create"), {"organization": acme.pk})
    assert acme.join_requests.get().user == sam


@pytest.mark.django_db
def test_a_pending_claim_offers_nobody_ask_to_join(dns, client, acme, sam):
    _claim(acme)
    client.force_login(sam)

    page = client.get(reverse("access")).content.decode()

    assert "Ask to join your company" not in page
    assert "Not attached to an organization" in page
