"""Sessions: ended means ended, idle sessions end, turning on MFA ends the others."""

import time
from unittest import mock

import pytest
from django.conf import settings
from django.urls import reverse
from redis.exceptions import ConnectionError as RedisConnectionError

from accounts.middleware import LAST_SEEN_KEY
from accounts.tests.factories import totp_code

SESSION_COOKIE = settings.SESSION_COOKIE_NAME


def _sign_in(client, user, password) -> str:
    response = client.post(reverse("account_login"), {"login": user.email, "password": password})
    assert response.status_code == 302
    return client.cookies[SESSION_COOKIE].value


def _replay(client_factory, cookie: str):
    client = client_factory()
    client.cookies[SESSION_COOKIE] = cookie
    return client.get(reverse("access"), follow=True)


@pytest.mark.django_db
def test_a_signed_out_session_stays_ended_when_the_redis_delete_fails(client, user, password):
    from django.test import Client

    cookie = _sign_in(client, user, password)
    with mock.patch("redis.Redis.delete", side_effect=RedisConnectionError("down")):
        client.post(reverse("account_logout"))

    response = _replay(Client, cookie)

    assert response.redirect_chain[-1][0].startswith(reverse("account_login"))
    assert user.email not in response.content.decode()


@pytest.mark.django_db
def test_an_ended_session_stays_ended_when_the_redis_delete_fails(client, user, password,
                                                                   user_factory):
    from allauth.usersessions.models import UserSession
    from django.test import Client

    laptop = Client()
    laptop_cookie = _sign_in(laptop, user, password)
    _sign_in(client, user, password)
    other = UserSession.objects.get(session_key=laptop_cookie)
    with mock.patch("redis.Redis.delete", side_effect=RedisConnectionError("down")):
        client.post(reverse("usersessions_list"), {"sessions": [other.pk]})

    response = _replay(Client, laptop_cookie)

    assert response.redirect_chain[-1][0].startswith(reverse("account_login"))


def _idle_for(client, seconds: int) -> None:
    session = client.session
    session[LAST_SEEN_KEY] = int(time.time()) - seconds
    session.save()


@pytest.mark.django_db
def test_a_session_idle_for_longer_than_twelve_hours_ends(client, user):
    client.force_login(user)
    client.get(reverse("access"))
    _idle_for(client, 12 * 60 * 60 + 60)

    response = client.get(reverse("access"), follow=True)

    assert response.redirect_chain[0][0].startswith(reverse("account_login"))
    assert "signed out after a period without activity" in response.content.decode()
    assert client.get(reverse("access")).status_code == 302


@pytest.mark.django_db
def test_a_session_used_within_its_idle_limit_goes_on(client, user):
    client.force_login(user)
    client.get(reverse("access"))
    _idle_for(client, 11 * 60 * 60)

    response = client.get(reverse("access"))

    assert response.status_code == 200
    assert time.time() - client.session[LAST_SEEN_KEY] < 60


@pytest.mark.django_db
def test_a_staff_session_ends_after_one_idle_hour(client, user_factory):
    staff = user_factory(is_staff=True)
    client.force_login(staff)
    client.get(reverse("access"))
    _idle_for(client, 60 * 60 + 60)

    response = client.get(reverse("access"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


@pytest.mark.django_db
def test_turning_on_totp_ends_the_persons_other_sessions(client, user, password,
                                                          django_capture_on_commit_callbacks):
    from django.test import Client

    laptop = Client()
    laptop_cookie = _sign_in(laptop, user, password)
    _sign_in(client, user, password)
    client.post(reverse("account_reauthenticate"), {"password": password})
    client.get(reverse("mfa_activate_totp"))
    secret = client.session["mfa.totp.secret"]
    code = totp_code(secret)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("mfa_activate_totp"), {"code": code})

    assert response.status_code == 302
    assert client.get(reverse("access")).status_code == 200
    replay = _replay(Client, laptop_cookie)
    assert replay.redirect_chain[-1][0].startswith(reverse("account_login"))
