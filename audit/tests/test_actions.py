import pytest
from allauth.mfa.models import Authenticator
from django.apps import apps
from django.db import connection
from django.db.migrations.autodetector import MigrationAutodetector
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.state import ProjectState
from django.urls import reverse

from audit.models import Action, AuditEvent
from audit.services import record


@pytest.mark.django_db
def test_an_unknown_action_is_refused_and_nothing_is_written(user):
    with pytest.raises(ValueError, match=r"unknown audit action 'account\.teleported'"):
        record(action="account.teleported", actor=user)

    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_a_known_action_given_as_its_code_is_written(user):
    event = record(action="account.signed_in", actor=user)

    event.refresh_from_db()
    assert (event.action, event.action_label) == ("account.signed_in", "Signed in")


@pytest.mark.django_db
def test_the_action_column_has_no_choices_so_a_new_action_needs_no_migration():
    # given the models as they are and the migrations as they are
    executor = MigrationExecutor(connection)
    migrated = executor.loader.project_state()
    autodetector = MigrationAutodetector(migrated, ProjectState.from_apps(apps))
    changes = autodetector.changes(graph=executor.loader.graph)

    # then audit has nothing to migrate, and its action field lists no choices
    assert "audit" not in changes
    assert AuditEvent._meta.get_field("action").choices is None


@pytest.mark.django_db
def test_the_admin_filters_and_lists_actions_by_their_labels(client, user_factory, user):
    # given a platform admin with two-factor authentication and two events
    admin = user_factory(is_staff=True, is_superuser=True, email="root@platform.test")
    Authenticator.objects.create(user=admin, type=Authenticator.Type.TOTP,
                                 data={"secret": "JBSWY3DPEHPK3PXP"})
    client.force_login(admin)
    record(action=Action.SIGNED_IN, actor=user)
    record(action=Action.KEY_ISSUED, actor=user)
    changelist = reverse("admin:audit_auditevent_changelist")

    # when the admin opens the list, then filters it by one action
    everything = client.get(changelist).content.decode()
    issued = client.get(changelist, {"action": Action.KEY_ISSUED}).content.decode()

    # then the filter offers the labels, and the rows show the label of their action
    assert 'href="?action=key.issued"' in everything
    assert ">Issued an API key</a>" in everything
    assert '<td class="field-action_label">Issued an API key</td>' in issued
    assert '<td class="field-action_label">Signed in</td>' not in issued
    assert '<td class="field-action_label">Signed in</td>' in everything
