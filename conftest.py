"""Fixtures shared by every app's tests. Tests use real PostgreSQL and real Redis."""

from unittest import mock

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db.backends.postgresql.operations import DatabaseOperations

from accounts.tests.factories import PASSWORD, UserFactory
from portal.celery import app as celery_app
from workspaces.models import Workspace
from workspaces.roles import Role
from workspaces.tests.factories import MembershipFactory, OrganizationFactory, WorkspaceFactory


@pytest.fixture(autouse=True)
def _warm_content_types(request):
    """Guardian looks the Workspace content type up once per process (a flush between
    transactional tests forgets it): query counts are those of a warm process."""
    uses_db = {"db", "transactional_db", "live_server"} & set(request.fixturenames)
    if request.node.get_closest_marker("django_db") or uses_db:
        request.getfixturevalue("_django_db_helper")  # pytest-django's own database setup
        ContentType.objects.get_for_model(Workspace)


@pytest.fixture(autouse=True)
def _portal_test_settings(settings):
    # Mail still goes through our Celery backend; the task delivers to Django's outbox.
    settings.EMAIL_BACKEND = "accounts.mail.CeleryEmailBackend"
    settings.PORTAL_EMAIL_DELIVERY_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    # Test transactions never commit, so no change would reach a key cache: tests verify
    # from the database, except keys/tests/test_cache.py.
    settings.KEY_CACHE = False
    yield
    cache.clear()  # this xdist worker's own Redis database (see settings)


AUDIT_TRUNCATE_TRIGGER = "audit_event_no_truncate"  # audit/migrations/0009_refuse_truncate.py


@pytest.fixture(scope="session", autouse=True)
def _flush_lifts_the_audit_truncate_trigger():
    # Transactional tests end with Django's flush, a TRUNCATE of every table, which the
    # audit table refuses. The test role owns the table, so the flush lifts that one
    # trigger around its own statements; test_append_only proves the trigger still bites.
    flush = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, **kwargs):
        sql = flush(self, style, tables, **kwargs)
        if not sql or "audit_auditevent" not in tables:
            return sql
        table = self.quote_name("audit_auditevent")
        return [f"ALTER TABLE {table} DISABLE TRIGGER {AUDIT_TRUNCATE_TRIGGER};", *sql,
                f"ALTER TABLE {table} ENABLE TRIGGER {AUDIT_TRUNCATE_TRIGGER};"]

    with mock.patch.object(DatabaseOperations, "sql_flush", sql_flush):
        yield


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


@pytest.fixture
def organization_factory():
    return OrganizationFactory


@pytest.fixture
def workspace_factory():
    return WorkspaceFactory


@pytest.fixture
def membership_factory():
    return MembershipFactory


@pytest.fixture
def workspace(db):
    """A workspace of an organization whose creator is its Owner."""
    ws = WorkspaceFactory()
    MembershipFactory(user=ws.organization.created_by, organization=ws.organization,
                      roles=[Role.OWNER])
    return ws


@pytest.fixture
def owner(workspace):
    return workspace.organization.created_by


@pytest.fixture
def member_client(client):
    """Sign in a new member of an organization with the given roles:
    `member_client(organization, Role.DEVELOPER)` returns (client, membership)."""

    def make(organization, *roles):
        membership = MembershipFactory(organization=organization, roles=list(roles))
        client.force_login(membership.user)
        return client, membership

    return make
