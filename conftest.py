"""Fixtures shared by every app's tests. Tests use real PostgreSQL and real Redis."""

import pytest
from django.core.cache import cache

from accounts.tests.factories import PASSWORD, UserFactory
from portal.celery import app as celery_app


@pytest.fixture(autouse=True)
def _portal_test_settings(settings):
    # Mail still goes through our Celery backend; the task delivers to Django's outbox.
    settings.EMAIL_BACKEND = "accounts.mail.CeleryEmailBackend"
    settings.PORTAL_EMAIL_DELIVERY_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    cache.clear()  # this xdist worker's own Redis database (see settings)


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def user_factory():
    return UserFactory


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def signed_in_client(client, user):
    client.force_login(user)
    return client
