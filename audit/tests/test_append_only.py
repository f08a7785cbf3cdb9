import pytest
from django.db import IntegrityError, InternalError, ProgrammingError, connection, transaction

from audit.context import AuditContext, bound
from audit.models import Action, AuditEvent
from audit.services import record

REFUSED = (InternalError, ProgrammingError, IntegrityError)


@pytest.mark.django_db
def test_record_keeps_actor_target_and_the_bound_audit_context(user):
    ctx = AuditContext(ip="203.0.113.9", user_agent="pytest-agent", request_id="req-12345678")

    with bound(ctx):
        event = record(action=Action.SIGNED_IN, actor=user, target=user, details={"k": "v"})

    event.refresh_from_db()
    assert event.actor == user
    assert (event.target_type, event.target_id) == ("accounts.user", str(user.pk))
    assert (event.ip_address, event.user_agent, event.request_id) == (
        "203.0.113.9", "pytest-agent", "req-12345678")
    assert event.details == {"k": "v"}


@pytest.mark.django_db
def test_database_refuses_to_update_an_audit_event(user):
    event = record(action=Action.SIGNED_IN, actor=user)

    with pytest.raises(REFUSED, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action=Action.SIGNED_OUT)

    event.refresh_from_db()
    assert event.action == Action.SIGNED_IN


@pytest.mark.django_db
def test_database_refuses_to_delete_an_audit_event_even_with_raw_sql(user):
    event = record(action=Action.SIGNED_IN, actor=user)

    with pytest.raises(REFUSED, match="append-only"), transaction.atomic(), \
            connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])

    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.django_db
def test_database_refuses_to_truncate_the_audit_table(user):
    event = record(action=Action.SIGNED_IN, actor=user)

    with pytest.raises(REFUSED, match="append-only: TRUNCATE refused"), \
            transaction.atomic(), connection.cursor() as cursor:
        # Check the deferred foreign keys of the insert now: TRUNCATE refuses pending ones.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE audit_auditevent CASCADE")

    assert AuditEvent.objects.filter(pk=event.pk).exists()
