"""Sign-in limits and TOTP replay protection hold behind a load balancer and without Redis."""

import time
from types import SimpleNamespace
from unittest import mock

import pytest
from allauth.core.internal import ratelimit
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import totp_code

TOO_MANY = "Too many failed login attempts"


@pytest.fixture
def redis_down(settings):
    """The default cache points at a port where no Redis listens."""
    settings.CACHES = {
        **settings.CACHES,
        "default": {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:1/0"},
    }


@pytest.fixture(autouse=True)
def rate_limit_clock():
    """The rate limits' clock stands still: a slow machine must not let a window expire."""
    now = time.time()
    fake = SimpleNamespace(time=lambda: now, monotonic=time.monotonic, sleep=time.sleep)
    with mock.patch.object(ratelimit, "time", fake):
        yield


@pytest.fixture
def behind_a_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1


def _sign_in(client, email, password, ip=None):
    extra = {"HTTP_X_FORWARDED_FOR": ip} if ip else {}
    return client.post(reverse("account_login"), {"login": email, "password": password},
                       follow=True, **extra)


def _signed_in_as(response, user) -> bool:
    return response.wsgi_request.user == user and user.email in response.content.decode()


@pytest.mark.django_db
def test_five_bad_passwords_from_one_client_do_not_stop_another_client(
        behind_a_proxy, user_factory, password):
    target, other = user_factory(), user_factory()
    attacker, colleague, owner = Client(), Client(), Client()
    for _ in range(5):
        _sign_in(attacker, target.email, "wrong-password-1", ip="203.0.113.1")
    assert TOO_MANY in _sign_in(attacker, target.email, password, ip="203.0.113.1"
                                ).content.decode()

    assert _signed_in_as(_sign_in(colleague, other.email, password, ip="203.0.113.2"), other)
    assert _signed_in_as(_sign_in(owner, target.email, password, ip="198.51.100.7"), target)


@pytest.mark.django_db
def test_one_address_trying_many_accounts_is_stopped(behind_a_proxy, user_factory, password):
    attacker = Client()
    for n in range(20):
        _sign_in(attacker, f"nobody{n}@acme.test", "wrong-password-1", ip="203.0.113.1")

    victim = user_factory()
    response = _sign_in(attacker, victim.email, password, ip="203.0.113.1")

    assert TOO_MANY in response.content.decode()
    assert not response.wsgi_request.user.is_authenticated


@pytest.mark.django_db
def test_failed_sign_ins_are_still_limited_with_redis_down(redis_down, client, user, password):
    for _ in range(5):
        _sign_in(client, user.email, "wrong-password-1")

    response = _sign_in(client, user.email, password)

    assert TOO_MANY in response.content.decode()
    assert not response.wsgi_request.user.is_authenticated


@pytest.mark.django_db
def test_a_totp_code_is_accepted_once_with_redis_down(redis_down, user, password):
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    code = totp_code(secret)

    first, second = Client(), Client()
    _sign_in(first, user.email, password)
    accepted = first.post(reverse("mfa_authenticate"), {"code": code}, follow=True)
    _sign_in(second, user.email, password)
    replayed = second.post(reverse("mfa_authenticate"), {"code": code}, follow=True)

    assert _signed_in_as(accepted, user)
    assert not replayed.wsgi_request.user.is_authenticated
    assert "Incorrect code" in replayed.content.decode()
