"""Operations: re-encrypting secrets, rotating twice, an unreadable secret, retention."""

import logging
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone

from audit.models import Action, AuditEvent
from outbox.services import emit
from webhooks import delivery, payloads, retention, services, signing
from webhooks.models import Attempt, Delivery, DeliveryStatus, Endpoint, Event
from webhooks.tests.factories import add_endpoint, approve_sandbox, receiver

OLD, NEW = signing.new_fernet_key(), signing.new_fernet_key()


@pytest.fixture
def sandbox(workspace, settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    settings.WEBHOOK_SECRET_KEYS = [OLD]
    return approve_sandbox(workspace)


def reveal(endpoint, owner):
    return services.reveal_secret(actor=owner, workspace=endpoint.workspace,
                                  environment="sandbox", public_id=endpoint.public_id)


@pytest.mark.django_db
def test_secrets_are_re_encrypted_under_the_first_key_so_the_old_one_can_go(
        sandbox, owner, settings, capsys):
    endpoint = add_endpoint(sandbox, owner, "http://127.0.0.1:9/")
    secret = reveal(endpoint, owner)
    settings.WEBHOOK_SECRET_KEYS = [NEW, OLD]

    call_command("reencrypt_webhook_secrets")
    settings.WEBHOOK_SECRET_KEYS = [NEW]

    assert reveal(endpoint, owner) == secret
    assert "1 endpoint(s) re-encrypted under the first key." in capsys.readouterr().out


@pytest.mark.django_db
def test_re_encrypting_names_the_endpoints_no_key_can_read(sandbox, owner, settings):
    endpoint = add_endpoint(sandbox, owner, "http://127.0.0.1:9/")
    settings.WEBHOOK_SECRET_KEYS = [NEW]

    with pytest.raises(CommandError, match=f"no key decrypts: {endpoint.public_id}"):
        call_command("reencrypt_webhook_secrets")


@pytest.mark.django_db
def test_an_unreadable_secret_disables_the_endpoint_with_a_reason_instead_of_retrying(
        sandbox, owner, settings, caplog, django_capture_on_commit_callbacks):
    with receiver() as hook:
        endpoint = add_endpoint(sandbox, owner, hook.url)
        settings.WEBHOOK_SECRET_KEYS = [NEW]  # OLD was retired too early
        event = emit(workspace=sandbox, environment="sandbox", type="key.revoked", data={})
        (delivery_id,) = delivery.dispatch(event.pk)

        with caplog.at_level(logging.ERROR, logger="webhooks.delivery"):
            assert delivery.attempt(delivery_id) is None
        assert delivery.attempt(delivery_id) is None  # no loop: nothing more is tried

    endpoint.refresh_from_db()
    assert not endpoint.enabled
    assert endpoint.disabled_reason.startswith("Its signing secret cannot be decrypted")
    assert f"webhook endpoint {endpoint.public_id}: its signing secret cannot be decrypted" \
        in caplog.text
    assert Delivery.objects.get().status == DeliveryStatus.PENDING  # waits, not lost
    assert not Attempt.objects.exists() and hook.received == []
    assert AuditEvent.objects.filter(action=Action.WEBHOOK_ENDPOINT_DISABLED).exists()

    # rotating gives it a readable secret, without keeping the unreadable one beside it
    services.rotate_secret(actor=owner, workspace=sandbox, environment="sandbox",
                           public_id=endpoint.public_id)
    endpoint.refresh_from_db()
    assert endpoint.previous_secret_encrypted == "" and reveal(endpoint, owner)


@pytest.mark.django_db
def test_a_second_rotation_within_the_overlap_is_refused_with_the_time_it_is_allowed(
        sandbox, owner):
    endpoint = add_endpoint(sandbox, owner, "http://127.0.0.1:9/")
    first = reveal(endpoint, owner)
    services.rotate_secret(actor=owner, workspace=sandbox, environment="sandbox",
                           public_id=endpoint.public_id)
    second = reveal(endpoint, owner)

    with pytest.raises(ValidationError, match="still signs deliveries until"):
        services.rotate_secret(actor=owner, workspace=sandbox, environment="sandbox",
                               public_id=endpoint.public_id)

    endpoint.refresh_from_db()
    assert payloads.live_secrets(endpoint, timezone.now()) == [second, first]
    Endpoint.objects.filter(pk=endpoint.pk).update(
        previous_secret_expires_at=timezone.now() - timedelta(seconds=1))
    services.rotate_secret(actor=owner, workspace=sandbox, environment="sandbox",
                           public_id=endpoint.public_id)
    endpoint.refresh_from_db()
    assert payloads.live_secrets(endpoint, timezone.now())[1] == second


@pytest.mark.django_db
def test_events_past_retention_go_in_batches_with_their_deliveries_and_attempts(
        sandbox, owner):
    add_endpoint(sandbox, owner, "http://127.0.0.1:9/")
    now = timezone.now()
    events = [emit(workspace=sandbox, environment="sandbox", type="key.revoked", data={})
              for _ in range(5)]
    for event in events:
        delivery.attempt(delivery.dispatch(event.pk, now=now)[0], now=now)  # fails: port 9
    assert Attempt.objects.count() == 5
    Delivery.objects.filter(event=events[4]).update(status=DeliveryStatus.PENDING)
    Delivery.objects.exclude(event=events[4]).update(status=DeliveryStatus.EXHAUSTED)
    Event.objects.filter(pk__in=[e.pk for e in events[:4]]).update(
        created_at=now - timedelta(days=31))
    Event.objects.filter(pk=events[4].pk).update(created_at=now - timedelta(days=31))
    young = emit(workspace=sandbox, environment="sandbox", type="key.revoked", data={})

    deleted = retention.purge_before(now - timedelta(days=30), batch=3, batches=1)
    assert deleted == 3
    deleted += retention.purge_before(now - timedelta(days=30), batch=3)

    assert deleted == 4
    assert set(Event.objects.values_list("pk", flat=True)) == {events[4].pk, young.pk}
    assert Delivery.objects.count() == 1 and Attempt.objects.count() == 1
