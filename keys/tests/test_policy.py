import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from audit.models import Action, AuditEvent
from keys import services
from keys.models import ApiKey, ExpiryNotice, KeyPolicy
from keys.policy import Rules, expiry_error
from keys.tests.factories import approve_sandbox, issue
from onboarding.review.evidence import integration_checks
from workspaces.roles import Role

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def sandbox(workspace):
    return approve_sandbox(workspace)


def set_policy(organization, actor, environment="sandbox", **rules):
    values = {"max_key_age_days": 90, "expiry_required": False, "max_expiry_days": None,
              **rules}
    return services.set_key_policy(actor=actor, organization=organization,
                                   environment=environment, **values)


@pytest.mark.parametrize(("rules", "expires_at", "error"), [
    (Rules(), None, None),
    (Rules(), NOW + timedelta(days=900), None),
    (Rules(), NOW - timedelta(seconds=1), "The expiry must be in the future."),
    (Rules(expiry_required=True), None, "The key policy requires an expiry."),
    (Rules(expiry_required=True), NOW + timedelta(days=400), None),
    (Rules(max_expiry_days=30), None,
     "The key policy requires an expiry at most 30 days ahead."),
    (Rules(max_expiry_days=30), NOW + timedelta(days=30), None),
    (Rules(max_expiry_days=30), NOW + timedelta(days=30, seconds=1),
     "The key policy allows an expiry at most 30 days ahead (by 31 Dec 2026 12:00 UTC)."),
])
def test_expiry_rules(rules, expires_at, error):
    assert expiry_error(rules, expires_at, NOW) == error


@pytest.mark.parametrize(("rules", "sentence"), [
    (Rules(), "Leave empty for a key that lasts until revoked."),
    (Rules(expiry_required=True), "The key policy requires every key to have an expiry."),
    (Rules(max_expiry_days=7), "The key policy requires an expiry at most 7 days ahead."),
])
def test_the_rules_describe_themselves_next_to_the_field(rules, sentence):
    assert rules.describe() == sentence


@pytest.mark.django_db
def test_issuing_obeys_the_policy_of_its_environment_only(sandbox, owner):
    set_policy(sandbox.organization, owner, max_expiry_days=30)

    with pytest.raises(ValidationError) as refused:
        issue(sandbox, owner)
    assert refused.value.message_dict == {
        "expires_at": ["The key policy requires an expiry at most 30 days ahead."]}
    with pytest.raises(ValidationError) as too_far:
        issue(sandbox, owner, expires_at=timezone.now() + timedelta(days=31))
    assert "at most 30 days ahead" in too_far.value.message_dict["expires_at"][0]

    key, _ = issue(sandbox, owner, expires_at=timezone.now() + timedelta(days=29))
    assert key.expires_at is not None
    assert ApiKey.objects.count() == 1


@pytest.mark.django_db
def test_rotation_keeps_the_expiry_and_obeys_the_policy(sandbox, owner):
    expires = timezone.now() + timedelta(days=20)
    old, _ = issue(sandbox, owner, expires_at=expires)

    new, _ = services.rotate_key(actor=owner, workspace=sandbox, public_id=old.public_id)

    assert new.expires_at == expires
    set_policy(sandbox.organization, owner, max_expiry_days=10)
    with pytest.raises(ValidationError) as refused:
        services.rotate_key(actor=owner, workspace=sandbox, public_id=new.public_id)
    assert "at most 10 days ahead" in refused.value.message_dict["expires_at"][0]
    newer, _ = services.rotate_key(actor=owner, workspace=sandbox, public_id=new.public_id,
                                   expires_at=timezone.now() + timedelta(days=9))
    assert newer.expires_at < expires


@pytest.mark.django_db
def test_a_chain_of_rotations_cannot_exceed_the_active_key_limit(sandbox, owner, settings):
    settings.MAX_ACTIVE_KEYS_PER_WORKSPACE = 3
    key, _ = issue(sandbox, owner)
    key, _ = services.rotate_key(actor=owner, workspace=sandbox, public_id=key.public_id)
    key, _ = services.rotate_key(actor=owner, workspace=sandbox, public_id=key.public_id)
    assert ApiKey.objects.active().count() == 3

    with pytest.raises(ValidationError) as refused:
        services.rotate_key(actor=owner, workspace=sandbox, public_id=key.public_id)

    assert "Rotate with 0 hours of overlap" in refused.value.message_dict["overlap_hours"][0]
    last, _ = services.rotate_key(actor=owner, workspace=sandbox, public_id=key.public_id,
                                  overlap=timedelta(0))
    assert ApiKey.objects.active().count() == 3
    assert last in ApiKey.objects.active()


@pytest.mark.django_db(transaction=True)
def test_concurrent_rotations_hold_the_active_key_limit(sandbox, owner, settings):
    settings.MAX_ACTIVE_KEYS_PER_WORKSPACE = 3
    keys = [issue(sandbox, owner, name=f"key {n}")[0] for n in range(2)]
    barrier, outcomes = threading.Barrier(2), []

    def rotate(key):
        barrier.wait()
        try:
            services.rotate_key(actor=owner, workspace=sandbox, public_id=key.public_id)
            outcomes.append("rotated")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=rotate, args=(key,)) for key in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["refused", "rotated"]
    assert ApiKey.objects.for_workspace(sandbox).active().count() == 3


@pytest.mark.django_db
def test_integration_verification_reads_the_maximum_key_age(sandbox, owner):
    key, _ = issue(sandbox, owner, name="Backend")
    ApiKey.objects.filter(pk=key.pk).update(created_at=timezone.now() - timedelta(days=40))
    check = {c.key: c for c in integration_checks(sandbox)}["key_age"]
    assert check.passed

    set_policy(sandbox.organization, owner, max_key_age_days=30)

    check = {c.key: c for c in integration_checks(sandbox)}["key_age"]
    assert not check.passed
    assert check.detail == (f"Rotate or revoke: Backend ({key.public_id}). The key policy "
                            "allows 30 days in sandbox and 90 days in production.")


@pytest.mark.django_db
def test_a_policy_change_is_audited_with_before_and_after(workspace, owner):
    set_policy(workspace.organization, owner, max_key_age_days=60, expiry_required=True)
    set_policy(workspace.organization, owner, max_key_age_days=60, expiry_required=True)

    events = AuditEvent.objects.filter(action=Action.KEY_POLICY_CHANGED)
    assert events.count() == 1
    assert events.get().details == {"environment": "sandbox", "changed": {
        "max_key_age_days": [90, 60], "expiry_required": [False, True]}}


@pytest.mark.django_db
def test_the_security_owner_edits_the_policy_after_reauthenticating(
        client, workspace, member_client, password):
    client, security = member_client(workspace.organization, Role.SECURITY_OWNER)
    edit = reverse("key_policy_edit", args=[workspace.organization.slug])
    data = {"sandbox-max_key_age_days": "90", "production-max_key_age_days": "45",
            "production-expiry_required": "on", "production-max_expiry_days": "60"}

    first = client.post(edit, data)
    assert first["Location"].startswith(reverse("account_reauthenticate"))
    assert not KeyPolicy.objects.exists()

    client.post(reverse("account_reauthenticate"), {"password": password})
    saved = client.post(edit, data, follow=True)

    page = saved.content.decode()
    assert "Key policy saved." in page
    assert "<td>45 days</td>" in page and "<td>60 days</td>" in page
    policy = KeyPolicy.objects.get(environment="production")
    assert (policy.max_key_age_days, policy.expiry_required, policy.max_expiry_days) == (
        45, True, 60)
    assert policy.updated_by == security.user


@pytest.mark.django_db
def test_a_bad_value_stays_on_the_page_with_its_message(client, workspace, member_client,
                                                        password):
    client, _ = member_client(workspace.organization, Role.SECURITY_OWNER)
    client.post(reverse("account_reauthenticate"), {"password": password})
    response = client.post(reverse("key_policy_edit", args=[workspace.organization.slug]),
                           {"sandbox-max_key_age_days": "0",
                            "production-max_key_age_days": "45"})

    page = response.content.decode()
    assert response.status_code == 400
    assert "Ensure this value is greater than or equal to 1." in page
    assert 'value="45"' in page
    assert not KeyPolicy.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "reads", "edits"), [
    (Role.OWNER, True, False), (Role.TECHNICAL_LEAD, True, False),
    (Role.SECURITY_OWNER, True, True), (Role.DEVELOPER, False, False),
])
def test_who_reads_and_who_edits_the_policy(client, workspace, member_client, role, reads,
                                            edits):
    client, _ = member_client(workspace.organization, role)
    page = client.get(reverse("key_policy", args=[workspace.organization.slug]))

    assert page.status_code == (200 if reads else 403)
    if reads:
        assert "Maximum key age" in page.content.decode()
        assert ("Change the key policy" in page.content.decode()) == edits
    edit = client.get(reverse("key_policy_edit", args=[workspace.organization.slug]))
    assert edit.status_code == (302 if edits else 403)


@pytest.mark.django_db
def test_the_issue_form_says_what_the_policy_requires(client, sandbox, owner):
    set_policy(sandbox.organization, owner, max_expiry_days=14)
    client.force_login(owner)
    url = reverse("key_issue", args=[sandbox.organization.slug, sandbox.slug, "sandbox"])

    response = client.post(url, {"name": "web app", "scopes": ["accounts:read"],
                                  "expires_at": "2099-01-01T00:00"})

    page = response.content.decode()
    assert response.status_code == 400
    assert "The key policy requires an expiry at most 14 days ahead. Times are UTC." in page
    assert "The key policy allows an expiry at most 14 days ahead" in page
    assert not ApiKey.objects.exists()


@pytest.mark.django_db
def test_owners_are_emailed_14_and_3_days_before_expiry_once_each(
        sandbox, owner, membership_factory, django_capture_on_commit_callbacks):
    membership_factory(organization=sandbox.organization, roles=[Role.DEVELOPER])
    now = timezone.now()
    key, _ = issue(sandbox, owner, name="Backend", expires_at=now + timedelta(days=20))
    # A rotated key's end is a planned overlap: no notice for it; its successor inherits
    # the 10-day expiry and is noticed.
    rotated, _ = issue(sandbox, owner, name="Worker", expires_at=now + timedelta(days=10))
    successor, _ = services.rotate_key(actor=owner, workspace=sandbox,
                                       public_id=rotated.public_id)
    mail.outbox.clear()

    def notify(later):
        with django_capture_on_commit_callbacks(execute=True):
            return services.send_expiry_notices(now + later)

    assert notify(timedelta(0)) == 1  # the successor, 10 days ahead
    assert notify(timedelta(days=6)) == 1  # Backend, 14 days ahead
    assert notify(timedelta(days=7, hours=1)) == 1  # the successor, under 3 days
    assert notify(timedelta(days=7, hours=2)) == 0
    assert notify(timedelta(days=17, hours=1)) == 1
    assert notify(timedelta(days=18)) == 0

    assert [m.to for m in mail.outbox] == [[owner.email]] * 4
    assert mail.outbox[1].subject == (
        f"Backend ({key.masked}) in {sandbox.name} expires in 14 days")
    assert "expires in 3 days" in mail.outbox[3].subject
    assert "/keys/sandbox/" in mail.outbox[3].body
    assert set(ExpiryNotice.objects.values_list("key__public_id", "days_before")) == {
        (key.public_id, 14), (key.public_id, 3), (successor.public_id, 14),
        (successor.public_id, 3)}
