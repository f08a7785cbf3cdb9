"""`manage.py seed_demo`: the demo data that `make run` starts with. Safe to run again."""

import os
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import User

DEMO_EMAIL = "demo@example.com"
DEMO_NAME = "Dana Demo"
ADMIN_EMAIL = "admin@example.com"
ADMIN_NAME = "Portal Admin"


@dataclass(frozen=True)
class Credentials:
    """A seeded login and the password it was created with."""

    label: str
    email: str
    password: str
    created: bool


def demo_password() -> str:
    """Password for the demo user: $DEMO_PASSWORD or the development default."""
    return os.environ.get("DEMO_PASSWORD", "demo-password-123")


def admin_password() -> str:
    """Password for the superuser: $ADMIN_PASSWORD or the development default."""
    return os.environ.get("ADMIN_PASSWORD", "admin-password-123")


def ensure_verified_email(user: User) -> None:
    """Give user a verified primary EmailAddress for their email unless they have one."""
    EmailAddress.objects.get_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )


def ensure_demo_user() -> Credentials:
    """Create the ordinary demo user unless it exists; an existing one is left as is."""
    password = demo_password()
    user = User.objects.filter(email=DEMO_EMAIL).first()
    created = user is None
    if user is None:
        user = User.objects.create_user(DEMO_EMAIL, password, full_name=DEMO_NAME)
    ensure_verified_email(user)
    return Credentials("Demo user", DEMO_EMAIL, password, created)


def ensure_admin_user() -> Credentials:
    """Create the platform superuser unless it exists; an existing one is left as is."""
    password = admin_password()
    user = User.objects.filter(email=ADMIN_EMAIL).first()
    created = user is None
    if user is None:
        user = User.objects.create_superuser(ADMIN_EMAIL, password, full_name=ADMIN_NAME)
    ensure_verified_email(user)
    return Credentials("Admin (superuser)", ADMIN_EMAIL, password, created)


def seed() -> list[Credentials]:
    """Create every piece of demo data that is missing, in one transaction."""
    with transaction.atomic():
        return [ensure_demo_user(), ensure_admin_user()]


class Command(BaseCommand):
    help = "Create the demo user and a superuser (idempotent) and print their credentials."

    def handle(self, *args: object, **options: object) -> None:
        # The demo logins and their passwords are printed in the README.
        if settings.PORTAL_ENV != "development" or not settings.DEBUG:
            raise CommandError("seed_demo creates accounts whose passwords are published; it "
                               "runs only with PORTAL_ENV=development and DEBUG on.")
        for login in seed():
            note = "" if login.created else "  (already existed, left as is)"
            self.stdout.write(f"{login.label}: {login.email} / {login.password}{note}")
