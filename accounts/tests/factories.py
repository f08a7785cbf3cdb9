from functools import cache

import factory
from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password

from accounts.models import User

PASSWORD = "correct-horse-battery-staple"


@cache
def password_hash() -> str:
    # The real hasher, run once per process: hundreds of users per test stay fast.
    return make_password(PASSWORD)


class UserFactory(factory.django.DjangoModelFactory):
    """A person who signed up and verified their email."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    full_name = factory.Faker("name")
    password = factory.LazyFunction(password_hash)

    @factory.post_generation
    def mfa(obj, create, extracted, **kwargs):
        """`mfa=True`: an authenticator app is on (staff need one for the admin)."""
        if create and extracted:
            from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

            TOTP.activate(obj, generate_totp_secret())

    @factory.post_generation
    def verified(obj, create, extracted, **kwargs):
        if create:
            EmailAddress.objects.create(
                user=obj, email=obj.email, primary=True,
                verified=True if extracted is None else extracted,
            )


def totp_code(secret: str, *, valid_for: float = 5.0) -> str:
    """The TOTP code for `secret` that stays valid at least `valid_for` more seconds.

    allauth accepts only the current 30-second window (no tolerance), so a code taken
    just before the window turns would be refused by the time the form is posted: a
    test waits for the next window instead of failing once in a while.
    """
    import time

    from allauth.mfa import app_settings
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    period = app_settings.TOTP_PERIOD
    left = period - time.time() % period
    if left < valid_for:
        time.sleep(left + 0.05)
    return format_hotp_value(hotp_value(secret, int(time.time()) // period))
