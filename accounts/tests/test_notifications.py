"""The person hears about changes to their account and sign-ins from new devices."""

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse


def _sign_in(user, password, user_agent: str) -> None:
    Client(HTTP_USER_AGENT=user_agent).post(
        reverse("account_login"), {"login": user.email, "password": password})


def _subjects(user) -> list[str]:
    return [m.subject for m in mail.outbox if m.to == [user.email]]


@pytest.mark.django_db
def test_a_sign_in_from_a_new_browser_is_mailed_and_a_known_one_is_not(
        user, password, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _sign_in(user, password, "Firefox/130 laptop")
        _sign_in(user, password, "Firefox/130 laptop")
    assert _subjects(user) == []

    with django_capture_on_commit_callbacks(execute=True):
        _sign_in(user, password, "Chrome/125 unknown")

    assert _subjects(user) == ["[Developer portal] New sign-in to your account"]
    assert "Chrome/125 unknown" in mail.outbox[-1].body


@pytest.mark.django_db
def test_a_password_change_is_mailed(client, user, password, django_capture_on_commit_callbacks):
    client.force_login(user)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_change_password"), {
            "oldpassword": password, "password1": "a-new-password-42",
            "password2": "a-new-password-42"})

    assert _subjects(user) == ["[Developer portal] Password Changed"]
