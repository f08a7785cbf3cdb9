import threading

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from audit.models import Action, AuditEvent
from onboarding import services
from onboarding.models import SandboxRequest, SandboxStatus
from workspaces.roles import Role

FORM = {"use_case": "A payouts dashboard for small shops; we read transactions daily.",
        "expected_monthly_calls": "20000", "product_areas": ["transactions", "webhooks"]}


def url(workspace, name="sandbox_request"):
    return reverse(name, args=[workspace.organization.slug, workspace.slug])


@pytest.fixture
def manual_review(settings):
    settings.SANDBOX_AUTO_APPROVE = False


@pytest.fixture
def reviewer(user_factory):
    return user_factory(email="reviewer@platform.test", is_staff=True, mfa=True)


@pytest.mark.django_db
def test_policy_approves_a_verified_member_at_once(client, workspace, owner):
    client.force_login(owner)

    response = client.post(url(workspace), FORM)

    assert response.status_code == 302
    sandbox_request = SandboxRequest.objects.get()
    assert (sandbox_request.status, sandbox_request.auto_approved) == ("approved", True)
    actions = list(AuditEvent.objects.for_workspace(workspace).order_by("id")
                   .values_list("action", flat=True))
    assert actions == [Action.SANDBOX_REQUESTED, Action.SANDBOX_APPROVED]
    page = client.get(url(workspace, "workspace_overview")).content.decode()
    assert "stage-band--sandbox" in page
    assert "Issue your first sandbox key" in page


@pytest.mark.django_db
def test_without_the_policy_the_request_waits_and_the_stage_stays_neutral(
    client, workspace, owner, manual_review
):
    client.force_login(owner)

    client.post(url(workspace), FORM)

    assert SandboxRequest.objects.get().status == SandboxStatus.PENDING
    page = client.get(url(workspace, "workspace_overview")).content.decode()
    assert "stage-band--account" in page
    assert "Sandbox access is being reviewed" in page


@pytest.mark.django_db
def test_bad_input_is_shown_next_to_each_field_and_kept(client, workspace, owner):
    client.force_login(owner)

    response = client.post(url(workspace), {"use_case": "short", "expected_monthly_calls": "-3",
                                            "product_areas": ["bitcoin"]})

    assert response.status_code == 400
    text = response.content.decode()
    assert "Tell us a little more" in text
    assert "Ensure this value is greater than or equal to 1." in text
    assert "Select a valid choice. bitcoin is not one of the available choices." in text
    assert "\nshort</textarea>" in text
    assert not SandboxRequest.objects.exists()


@pytest.mark.django_db
def test_only_members_with_the_capability_may_request(workspace, member_client):
    client, _ = member_client(workspace.organization, Role.BILLING_CONTACT)

    assert client.get(url(workspace)).status_code == 200
    assert client.post(url(workspace), FORM).status_code == 403
    assert not SandboxRequest.objects.exists()


@pytest.mark.django_db
def test_reviewer_approves_and_the_requester_is_emailed_after_commit(
    client, workspace, owner, manual_review, reviewer, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    client.post(url(workspace), FORM)
    pending = SandboxRequest.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        services.decide_sandbox_request(reviewer=reviewer, sandbox_request_id=pending.pk,
                                        approve=True)

    pending.refresh_from_db()
    assert (pending.status, pending.decided_by) == ("approved", reviewer)
    assert mail.outbox[-1].to == [owner.email]
    assert "approved" in mail.outbox[-1].subject
    event = AuditEvent.objects.get(action=Action.SANDBOX_APPROVED)
    assert (event.actor, event.workspace) == (reviewer, workspace)


@pytest.mark.django_db
def test_denial_needs_a_reason_shows_it_and_allows_resubmission(
    client, workspace, owner, manual_review, reviewer
):
    client.force_login(owner)
    client.post(url(workspace), FORM)
    pending = SandboxRequest.objects.get()

    with pytest.raises(ValidationError, match="Say why"):
        services.decide_sandbox_request(reviewer=reviewer, sandbox_request_id=pending.pk,
                                        approve=False, reason="  ")
    services.decide_sandbox_request(reviewer=reviewer, sandbox_request_id=pending.pk,
                                    approve=False, reason="Describe the data you store.")

    page = client.get(url(workspace)).content.decode()
    assert "Describe the data you store." in page
    assert "Resubmit request" in page
    client.post(url(workspace), FORM)
    assert list(SandboxRequest.objects.order_by("id").values_list("status", flat=True)) == [
        "denied", "pending"]


@pytest.mark.django_db
def test_a_reviewer_cannot_decide_for_their_own_organization(
    client, workspace, owner, manual_review, membership_factory, reviewer
):
    membership_factory(user=reviewer, organization=workspace.organization)
    client.force_login(owner)
    client.post(url(workspace), FORM)

    with pytest.raises(ValidationError, match="another reviewer must decide"):
        services.decide_sandbox_request(reviewer=reviewer, approve=True,
                                        sandbox_request_id=SandboxRequest.objects.get().pk)


@pytest.mark.django_db
def test_a_reviewer_without_a_second_factor_cannot_decide(
    client, workspace, owner, manual_review, user_factory
):
    client.force_login(owner)
    client.post(url(workspace), FORM)
    no_mfa = user_factory(is_staff=True)

    with pytest.raises(ValidationError, match="Turn on two-factor authentication"):
        services.decide_sandbox_request(reviewer=no_mfa, approve=True,
                                        sandbox_request_id=SandboxRequest.objects.get().pk)
    assert SandboxRequest.objects.get().status == "pending"


@pytest.mark.django_db
def test_a_former_member_cannot_decide_for_the_organization(
    client, workspace, owner, manual_review, membership_factory, reviewer
):
    membership_factory(user=reviewer, organization=workspace.organization, is_active=False)
    client.force_login(owner)
    client.post(url(workspace), FORM)

    with pytest.raises(ValidationError, match="another reviewer must decide"):
        services.decide_sandbox_request(reviewer=reviewer, approve=True,
                                        sandbox_request_id=SandboxRequest.objects.get().pk)


@pytest.mark.django_db
def test_a_second_request_while_one_waits_is_refused(client, workspace, owner, manual_review):
    client.force_login(owner)
    client.post(url(workspace), FORM)

    with pytest.raises(ValidationError, match="already waiting"):
        services.request_sandbox_access(actor=owner, workspace=workspace, use_case="x" * 30,
                                        expected_monthly_calls=1, product_areas=["accounts"])


@pytest.mark.django_db(transaction=True)
def test_two_reviewers_deciding_at_once_make_one_transition(
    workspace, owner, manual_review, user_factory
):
    services.request_sandbox_access(actor=owner, workspace=workspace, use_case="x" * 30,
                                    expected_monthly_calls=1, product_areas=["accounts"])
    pending = SandboxRequest.objects.get()
    reviewers = [user_factory(is_staff=True, mfa=True) for _ in range(2)]
    barrier, outcomes = threading.Barrier(2), []

    def decide(reviewer, approve):
        barrier.wait()
        try:
            services.decide_sandbox_request(reviewer=reviewer, sandbox_request_id=pending.pk,
                                            approve=approve, reason="no")
            outcomes.append("ok")
        except ValidationError as error:
            outcomes.append(error.messages[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=(r, i == 0)) for i, r in
               enumerate(reviewers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes)[1] == "ok"
    assert sorted(outcomes)[0].startswith("This request was already")
    assert AuditEvent.objects.filter(action__in=[Action.SANDBOX_APPROVED,
                                                 Action.SANDBOX_DENIED]).count() == 1


@pytest.mark.django_db
def test_admin_queue_approves_and_deny_asks_for_a_reason(
    client, workspace, owner, manual_review, user_factory
):
    admin_user = user_factory(is_staff=True, is_superuser=True, mfa=True)
    services.request_sandbox_access(actor=owner, workspace=workspace, use_case="x" * 30,
                                    expected_monthly_calls=1, product_areas=["accounts"])
    pending = SandboxRequest.objects.get()
    client.force_login(admin_user)
    changelist = reverse("admin:onboarding_sandboxrequest_changelist")

    assert workspace.name in client.get(changelist + "?status__exact=pending").content.decode()
    response = client.post(changelist, {"action": "deny", "_selected_action": [pending.pk]})
    assert b"Deny with this reason" in response.content
    client.post(changelist, {"action": "deny", "_selected_action": [pending.pk],
                             "apply": "1", "reason": "Which data do you store?"})

    pending.refresh_from_db()
    assert (pending.status, pending.reason, pending.decided_by) == (
        "denied", "Which data do you store?", admin_user)
