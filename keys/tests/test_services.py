import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from audit.models import Action, AuditEvent
from keys import services
from keys.models import ApiKey
from keys.selectors import verify
from keys.tests.factories import approve_sandbox, issue


@pytest.fixture
def sandbox(workspace):
    return approve_sandbox(workspace)


@pytest.mark.django_db
def test_sandbox_keys_wait_for_sandbox_access(workspace, owner):
    with pytest.raises(ValidationError, match="once sandbox access is approved"):
        issue(workspace, owner)


@pytest.mark.django_db
def test_production_keys_are_refused_before_production_approval_and_issued_after(
    sandbox, owner
):
    with pytest.raises(ValidationError, match="all four production review stages"):
        issue(sandbox, owner, environment="production")

    sandbox.production_approved_at = timezone.now()
    sandbox.save()
    _, secret = issue(sandbox, owner, environment="production")
    assert secret.startswith("sk_live_")
    assert verify(secret, environment="production").code == "VALID"


@pytest.mark.django_db
def test_only_a_hash_prefix_and_last_four_are_stored(sandbox, owner):
    key, secret = issue(sandbox, owner)

    stored = ApiKey.objects.filter(pk=key.pk).values().get()
    assert secret not in str(stored)
    assert (key.prefix, key.last4) == ("sk_sandbox_", secret[-4:])
    event = AuditEvent.objects.get(action=Action.KEY_ISSUED)
    assert secret not in str(event.details)
    assert event.details["key_id"] == key.public_id


@pytest.mark.django_db
def test_revoked_key_fails_on_the_very_next_verification(sandbox, owner):
    key, secret = issue(sandbox, owner)
    assert verify(secret).code == "VALID"

    services.revoke_key(actor=owner, workspace=sandbox, public_id=key.public_id)

    assert verify(secret).code == "REVOKED"
    assert AuditEvent.objects.filter(action=Action.KEY_REVOKED, actor=owner).count() == 1


@pytest.mark.django_db
def test_expired_key_is_refused_with_its_own_code(sandbox, owner):
    _, secret = issue(sandbox, owner, expires_at=timezone.now() + timedelta(hours=1))

    assert verify(secret).code == "VALID"
    assert verify(secret, now=timezone.now() + timedelta(hours=2)).code == "EXPIRED"


@pytest.mark.django_db
def test_rotation_keeps_both_keys_working_during_the_overlap_then_only_the_new(sandbox, owner):
    old, old_secret = issue(sandbox, owner, name="backend")

    new, new_secret = services.rotate_key(actor=owner, workspace=sandbox,
                                          public_id=old.public_id, overlap=timedelta(hours=24))

    assert (new.name, new.scopes, new.rotated_from) == ("backend", old.scopes, old)
    assert verify(old_secret).code == "VALID"
    assert verify(new_secret).code == "VALID"
    after = timezone.now() + timedelta(hours=24, seconds=1)
    assert verify(old_secret, now=after).code == "EXPIRED"
    assert verify(new_secret, now=after).code == "VALID"


@pytest.mark.django_db
def test_rotation_overlap_is_capped_at_seven_days_and_once_per_key(sandbox, owner):
    key, _ = issue(sandbox, owner)

    with pytest.raises(ValidationError, match="between 0 hours and 7 days"):
        services.rotate_key(actor=owner, workspace=sandbox, public_id=key.public_id,
                            overlap=timedelta(days=8))
    services.rotate_key(actor=owner, workspace=sandbox, public_id=key.public_id)
    with pytest.raises(ValidationError, match="already rotated"):
        services.rotate_key(actor=owner, workspace=sandbox, public_id=key.public_id)


@pytest.mark.django_db
def test_scope_and_environment_are_checked(sandbox, owner):
    _, secret = issue(sandbox, owner, scopes=["accounts:read"])

    assert verify(secret, scope="accounts:read").code == "VALID"
    assert verify(secret, scope="transactions:read").code == "FORBIDDEN"
    assert verify(secret, environment="production").code == "WRONG_ENVIRONMENT"


@pytest.mark.django_db
def test_a_mistyped_key_is_refused_before_any_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert verify("sk_sandbox_" + "a" * 38).code == "BAD_CHECKSUM"
        assert verify("sk_sandbox_short").code == "MALFORMED_KEY"


@pytest.mark.django_db
def test_verification_is_one_query_and_last_used_is_written_at_most_once_a_minute(
    sandbox, owner, django_assert_num_queries
):
    _, secret = issue(sandbox, owner)
    with django_assert_num_queries(2):  # the lookup, and the first last_used_at
        verify(secret)

    with django_assert_num_queries(1):
        verify(secret)
    with django_assert_num_queries(2):
        verify(secret, now=timezone.now() + timedelta(minutes=2))


@pytest.mark.django_db
def test_unknown_key_is_not_found(sandbox):
    from keys.secrets import generate

    assert verify(generate("sandbox")).code == "NOT_FOUND"


@pytest.mark.django_db(transaction=True)
def test_the_active_key_limit_holds_under_concurrent_creation(sandbox, owner, settings):
    settings.MAX_ACTIVE_KEYS_PER_WORKSPACE = 3
    barrier, outcomes = threading.Barrier(6), []

    def create():
        barrier.wait()
        try:
            issue(sandbox, owner)
            outcomes.append("issued")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["issued"] * 3 + ["refused"] * 3
    assert ApiKey.objects.for_workspace(sandbox).active().count() == 3
