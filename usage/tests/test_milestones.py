from datetime import timedelta

import pytest
from django.utils import timezone

from onboarding import services as onboarding_services
from onboarding.facts import load_facts
from onboarding.lanes import checklist
from usage import services
from usage.tests.factories import make_key
from workspaces.roles import Role


@pytest.mark.django_db
def test_facts_read_the_usage_milestones_in_a_fixed_number_of_queries(
        workspace, owner, django_assert_num_queries):
    with django_assert_num_queries(3):
        before = load_facts(workspace)
    at = (timezone.now() - timedelta(minutes=3)).replace(microsecond=0)
    services.record_call(api_key=make_key(workspace), endpoint="/v1/ping", method="GET",
                         status=200, latency_ms=3, request_id="req_1", occurred_at=at)
    services.roll_up_usage()
    services.mark_usage_reviewed(workspace=workspace, user=owner)

    with django_assert_num_queries(3):
        after = load_facts(workspace)

    assert (before.first_call_at, before.usage_reviewed_at) == (None, None)
    assert after.first_call_at == at
    assert after.usage_reviewed_at is not None


@pytest.mark.django_db
def test_the_first_call_step_is_done_once_the_call_is_rolled_up(workspace, owner):
    onboarding_services.request_sandbox_access(
        actor=owner, workspace=workspace, use_case="x" * 30, expected_monthly_calls=5,
        product_areas=["accounts"])
    services.record_call(api_key=make_key(workspace), endpoint="/v1/ping", method="GET",
                         status=200, latency_ms=3, request_id="req_1")

    def status_of_first_call():
        items = checklist(load_facts(workspace), [Role.DEVELOPER])
        return next(item.status for item in items if item.key == "first_call")

    assert status_of_first_call() != "done"  # recorded, not yet rolled up: not on the page
    services.roll_up_usage()
    assert status_of_first_call() == "done"


@pytest.mark.django_db
def test_only_a_successful_call_ticks_the_first_call_step(workspace, owner):
    onboarding_services.request_sandbox_access(
        actor=owner, workspace=workspace, use_case="x" * 30, expected_monthly_calls=5,
        product_areas=["accounts"])
    key = make_key(workspace)

    def status_of_first_call():
        services.roll_up_usage()
        items = checklist(load_facts(workspace), [Role.DEVELOPER])
        return next(item.status for item in items if item.key == "first_call")

    services.record_call(api_key=key, endpoint="/v1/ping", method="GET", status=401,
                         latency_ms=3, request_id="req_revoked")
    services.record_call(api_key=key, endpoint="/v1/ping", method="GET", status=500,
                         latency_ms=3, request_id="req_failed")
    assert status_of_first_call() == "current"
    services.record_call(api_key=key, endpoint="/v1/ping", method="GET", status=200,
                         latency_ms=3, request_id="req_ok")
    assert status_of_first_call() == "done"
