from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User


@pytest.fixture(autouse=True)
def development(settings):
    # pytest-django turns DEBUG off; seed_demo runs only where it is on.
    settings.DEBUG = True


def seed_demo() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def snapshot() -> list[tuple]:
    users = list(User.objects.order_by("pk").values_list(
        "pk", "email", "full_name", "password", "is_staff", "is_superuser", "is_active"))
    emails = list(EmailAddress.objects.order_by("pk").values_list(
        "pk", "user_id", "email", "verified", "primary"))
    return users + emails


@pytest.mark.django_db
def test_seed_demo_creates_demo_user_and_superuser_with_verified_emails():
    # given an empty database
    # when
    output = seed_demo()

    # then
    demo = User.objects.get(email="demo@example.com")
    admin = User.objects.get(email="admin@example.com")
    assert demo.full_name == "Dana Demo"
    assert not demo.is_staff and not demo.is_superuser
    assert demo.check_password("demo-password-123")
    assert admin.is_staff and admin.is_superuser
    assert admin.check_password("admin-password-123")
    for user in (demo, admin):
        assert EmailAddress.objects.filter(
            user=user, email=user.email, verified=True, primary=True).count() == 1
    assert "demo@example.com / demo-password-123" in output
    assert "admin@example.com / admin-password-123" in output


@pytest.mark.django_db
def test_seed_demo_twice_changes_nothing():
    # given
    seed_demo()
    before = snapshot()

    # when
    output = seed_demo()

    # then
    assert snapshot() == before
    assert User.objects.count() == 2
    assert "already existed" in output


@pytest.mark.django_db
def test_seed_demo_takes_passwords_from_the_environment(monkeypatch):
    # given
    monkeypatch.setenv("DEMO_PASSWORD", "another-demo-secret")
    monkeypatch.setenv("ADMIN_PASSWORD", "another-admin-secret")

    # when
    seed_demo()

    # then
    assert User.objects.get(email="demo@example.com").check_password("another-demo-secret")
    assert User.objects.get(email="admin@example.com").check_password("another-admin-secret")


@pytest.mark.django_db
@pytest.mark.parametrize("portal_env, debug", [("production", False), ("staging", True),
                                               ("development", False)])
def test_seed_demo_refuses_outside_development(settings, portal_env, debug):
    settings.PORTAL_ENV, settings.DEBUG = portal_env, debug

    with pytest.raises(CommandError, match="runs only with PORTAL_ENV=development and DEBUG on"):
        seed_demo()

    assert not User.objects.exists()
