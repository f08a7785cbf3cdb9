"""Security-relevant account events are in the audit trail."""

import time

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from allauth.usersessions.models import UserSession
from django.test import Client
from django.urls import reverse

from accounts.middleware import LAST_SEEN_KEY
from audit.models import Action, AuditEvent


def _events(action) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


@pytest.mark.django_db
def test_reauthentication_is_audited(signed_in_client, user, password):
    signed_in_client.post(reverse("account_reauthenticate"), {"password": password})

    [event] = _events(Action.REAUTHENTICATED)
    assert (event.actor, event.details) == (user, {"method": "password"})


@pytest.mark.django_db
def test_a_wrong_two_factor_code_is_audited(client, user, password):
    TOTP.activate(user, generate_totp_secret())
    client.post(reverse("account_login"), {"login": user.email, "password": password})

    response = client.post(reverse("mfa_authenticate"), {"code": "000000"})

    assert "Incorrect code" in response.content.decode()
    [event] = _events(Action.MFA_FAILED)
    assert (event.actor, event.details) == (user, {"type": "totp", "reauthentication": False})


@pytest.mark.django_db
def test_a_password_reset_request_is_audited(client, user):
    client.post(reverse("account_reset_password"), {"email": user.email})

    [event] = _events(Action.PASSWORD_RESET_REQUESTED)
    assert (event.target_id, event.details) == (str(user.pk), {"email": user.email})


@pytest.mark.django_db
def test_ending_another_session_is_audited(client, user, password):
    laptop = Client(HTTP_USER_AGENT="Laptop/1")
    laptop.post(reverse("account_login"), {"login": user.email, "password": password})
    client.post(reverse("account_login"), {"login": user.email, "password": password})
    other = UserSession.objects.get(user_agent="Laptop/1")

    client.post(reverse("usersessions_list"), {"sessions": [other.pk]})

    [event] = _events(Action.SESSION_ENDED)
    assert (event.actor, event.target_id, event.details["user_agent"]) == (
        user, str(user.pk), "Laptop/1")


@pytest.mark.django_db
def test_a_session_ended_for_idleness_is_audited(client, user):
    client.force_login(user)
    session = client.session
    session[LAST_SEEN_KEY] = int(time.time()) - 13 * 60 * 60
    session.save()

    client.get(reverse("access"))

    [event] = _events(Action.SESSION_ENDED)
    assert (event.target_id, event.details["reason"]) == (str(user.pk), "idle")
