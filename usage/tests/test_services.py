from datetime import UTC, datetime

import pytest

from audit.models import Action, AuditEvent
from usage import services
from usage.models import CallRecord, WorkspaceUsage
from usage.tests.factories import make_key

WHEN = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)


def call(key, request_id: str = "req_1", **changes) -> bool:
    return services.record_call(**{
        "api_key": key, "endpoint": "/v1/accounts", "method": "get", "status": 200,
        "latency_ms": 12, "request_id": request_id, "occurred_at": WHEN, **changes})


@pytest.mark.django_db
def test_record_call_stores_the_call_under_the_keys_workspace(workspace):
    key = make_key(workspace)

    assert call(key) is True

    stored = CallRecord.objects.get()
    assert (stored.workspace, stored.api_key, stored.environment, stored.endpoint,
            stored.method, stored.status, stored.latency_ms, stored.request_id,
            stored.occurred_at) == (workspace, key, "sandbox", "/v1/accounts", "GET", 200, 12,
                                    "req_1", WHEN)
    assert stored.received_at is not None


@pytest.mark.django_db
def test_a_repeated_request_id_is_ignored(workspace):
    key = make_key(workspace)
    call(key, status=200)

    assert call(key, status=500) is False

    assert list(CallRecord.objects.values_list("status", flat=True)) == [200]


@pytest.mark.django_db
def test_request_ids_are_unique_per_environment(workspace):
    call(make_key(workspace))

    assert call(make_key(workspace, environment="production")) is True
    assert CallRecord.objects.count() == 2


@pytest.mark.django_db
def test_record_call_is_one_statement(workspace, django_assert_num_queries):
    key = make_key(workspace)

    with django_assert_num_queries(1):
        call(key)


@pytest.mark.django_db
def test_usage_review_needs_a_first_call_and_is_noted_once(workspace, owner, user):
    assert services.mark_usage_reviewed(workspace=workspace, user=owner) is False
    WorkspaceUsage.objects.create(workspace=workspace, first_call_at=WHEN)

    assert services.mark_usage_reviewed(workspace=workspace, user=owner) is True
    first = WorkspaceUsage.objects.get(workspace=workspace).usage_reviewed_at
    assert services.mark_usage_reviewed(workspace=workspace, user=user) is False

    milestones = WorkspaceUsage.objects.get(workspace=workspace)
    assert (milestones.usage_reviewed_at, milestones.usage_reviewed_by) == (first, owner)
    [event] = AuditEvent.objects.filter(action=Action.USAGE_REVIEWED)
    assert (event.actor, event.workspace) == (owner, workspace)
