import pytest
from django.urls import reverse

from audit.context import AuditContext, bound, client_ip, current
from audit.models import Action, AuditEvent


@pytest.mark.django_db
def test_a_view_writes_the_requests_ip_agent_and_id_on_its_audit_row(signed_in_client, user):
    response = signed_in_client.post(
        reverse("organization_create"), {"name": "Acme"},
        HTTP_USER_AGENT="Mozilla/5.0 (audit test)", REMOTE_ADDR="198.51.100.7")

    event = AuditEvent.objects.get(action=Action.ORGANIZATION_CREATED, actor=user)
    assert (event.ip_address, event.user_agent) == ("198.51.100.7", "Mozilla/5.0 (audit test)")
    assert event.request_id == response["X-Request-Id"]
    assert len(event.request_id) == 32


@pytest.mark.django_db
def test_behind_one_trusted_proxy_the_forwarded_client_address_is_recorded(
        settings, signed_in_client, user):
    settings.TRUSTED_PROXY_COUNT = 1

    signed_in_client.post(reverse("organization_create"), {"name": "Acme"},
                          REMOTE_ADDR="10.0.0.2",
                          HTTP_X_FORWARDED_FOR="192.0.2.66, 203.0.113.20")

    event = AuditEvent.objects.get(action=Action.ORGANIZATION_CREATED, actor=user)
    # The client may write anything on the left; our proxy appended the address it saw.
    assert event.ip_address == "203.0.113.20"


@pytest.mark.django_db
def test_without_a_trusted_proxy_x_forwarded_for_is_ignored(signed_in_client, user):
    signed_in_client.post(reverse("organization_create"), {"name": "Acme"},
                          REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="192.0.2.66")

    event = AuditEvent.objects.get(action=Action.ORGANIZATION_CREATED, actor=user)
    assert event.ip_address == "198.51.100.7"


@pytest.mark.django_db
def test_a_trusted_proxys_well_formed_request_id_is_kept(settings, signed_in_client, user):
    settings.TRUSTED_PROXY_COUNT = 1

    response = signed_in_client.post(reverse("organization_create"), {"name": "Acme"},
                                     HTTP_X_REQUEST_ID="edge-7f3a9c21")

    event = AuditEvent.objects.get(action=Action.ORGANIZATION_CREATED, actor=user)
    assert (event.request_id, response["X-Request-Id"]) == ("edge-7f3a9c21", "edge-7f3a9c21")


@pytest.mark.parametrize(("proxies", "incoming"), [
    (0, "edge-7f3a9c21"),              # nobody we trust set it
    (1, "edge 7f3a9c21\r\nX-Evil: 1"),  # unsafe characters
    (1, "a" * 65),                      # too long
    (1, "short"),                       # too short
])
@pytest.mark.django_db
def test_an_untrusted_or_malformed_request_id_is_replaced(
        settings, signed_in_client, user, proxies, incoming):
    settings.TRUSTED_PROXY_COUNT = proxies

    response = signed_in_client.post(reverse("organization_create"), {"name": "Acme"},
                                     HTTP_X_REQUEST_ID=incoming)

    event = AuditEvent.objects.get(action=Action.ORGANIZATION_CREATED, actor=user)
    assert event.request_id == response["X-Request-Id"]
    assert event.request_id != incoming
    assert len(event.request_id) == 32


@pytest.mark.django_db
def test_every_response_carries_a_request_id(client):
    response = client.get(reverse("docs:index"))

    assert len(response["X-Request-Id"]) == 32


@pytest.mark.parametrize(("proxies", "forwarded", "remote", "expected"), [
    (0, "192.0.2.66", "198.51.100.7", "198.51.100.7"),
    (1, "192.0.2.66", "10.0.0.2", "192.0.2.66"),
    (1, "192.0.2.66, 203.0.113.20", "10.0.0.2", "203.0.113.20"),
    (2, "192.0.2.66, 203.0.113.20, 10.0.0.9", "10.0.0.2", "203.0.113.20"),
    (2, "203.0.113.20", "10.0.0.2", "10.0.0.2"),       # shorter than our chain: not believed
    (1, "not-an-ip", "10.0.0.2", None),
    (1, "[2001:db8::1]:443", "10.0.0.2", "2001:db8::1"),
    (1, "203.0.113.20:443", "10.0.0.2", "203.0.113.20"),
    (0, "", "", None),
])
def test_client_ip_believes_forwarded_for_only_as_far_as_our_proxies(
        rf, settings, proxies, forwarded, remote, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = rf.get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR=remote)

    assert client_ip(request) == expected


def test_outside_a_request_the_context_is_empty_and_bound_restores_it():
    assert current() == AuditContext()
    ctx = AuditContext(ip="192.0.2.1", user_agent="worker", request_id="task-1234")

    with bound(ctx):
        assert current() == ctx

    assert current() == AuditContext()
