"""Events that workspaces, onboarding and keys write through the outbox, and the outbox's
place below them."""

import ast
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone

from keys.services import announce_expiring_keys
from keys.tests.factories import issue
from onboarding.review import services as review
from onboarding.tests.factories import review_team, reviewer, submit_all
from outbox import catalog
from outbox.models import Event
from outbox.services import emit
from webhooks.tests.factories import approve_sandbox
from workspaces.roles import Role
from workspaces.services.invitations import accept_invitation, invite_member
from workspaces.services.members import leave_organization, remove_member

OUTBOX = Path(__file__).resolve().parents[1]
ABOVE = ("workspaces", "webhooks", "keys", "onboarding", "usage", "sandbox", "accounts")


def data_of(event_type):
    return list(Event.objects.filter(type=event_type).order_by("pk").values_list(
        "environment", "data"))


def test_the_outbox_imports_no_app_above_it():
    for path in OUTBOX.glob("*.py"):
        tree = ast.parse(path.read_text())
        names = [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
        names += [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                  for alias in node.names]
        assert not [n for n in names if n and n.split(".")[0] in ABOVE], path.name


def test_every_event_type_has_a_description_and_an_example():
    assert {"member.joined", "member.removed", "review.stage_decided",
            "key.expiring"} <= set(catalog.TYPES)
    assert all(e.description and e.example for e in catalog.CATALOG)


@pytest.mark.django_db
def test_joining_and_leaving_an_organization_are_events_of_each_open_workspace(
        workspace, owner, user_factory, workspace_factory):
    approve_sandbox(workspace)
    workspace_factory(organization=workspace.organization)  # not open: hears nothing
    organization = workspace.organization
    invitation, _ = invite_member(actor=owner, organization=organization,
                                  email="ada@example.com", roles=[Role.DEVELOPER])
    ada = user_factory(email="ada@example.com")

    membership = accept_invitation(actor=ada, invitation_id=invitation.pk)
    leave_organization(actor=ada, organization=organization)

    assert data_of("member.joined") == [("sandbox", {
        "organization": organization.slug, "email": "ada@example.com",
        "roles": ["developer"]})]
    assert data_of("member.removed") == [("sandbox", {
        "organization": organization.slug, "email": "ada@example.com",
        "roles": ["developer"], "left": True})]
    assert Event.objects.filter(workspace=workspace).count() == 2
    assert membership.pk


@pytest.mark.django_db
def test_removing_a_member_is_an_event(workspace, owner, membership_factory):
    approve_sandbox(workspace)
    member = membership_factory(organization=workspace.organization, roles=[Role.VIEWER])

    remove_member(actor=owner, organization=workspace.organization, membership_id=member.pk)

    ((_, data),) = data_of("member.removed")
    assert (data["email"], data["left"]) == (member.user.email, False)


@pytest.mark.django_db
def test_a_review_decision_is_an_event_with_the_decision_and_the_notes(
        workspace, user_factory, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    approve_sandbox(workspace)
    stages = submit_all(workspace, review_team(workspace))

    review.decide_review_stage(reviewer=reviewer(user_factory), stage_id=stages["consent"].pk,
                               version=1, approve=False, notes="Nearly there.",
                               changes={"terms_url": "This page is a 404."})

    ((environment, data),) = data_of("review.stage_decided")
    assert environment == "sandbox"
    assert {k: data[k] for k in ("stage", "decision", "notes", "changes")} == {
        "stage": "consent", "decision": "changes_requested", "notes": "Nearly there.",
        "changes": {"terms_url": "This page is a 404."}}


@pytest.mark.django_db
def test_a_key_expiring_within_seven_days_is_announced_once(workspace, owner):
    approve_sandbox(workspace)
    now = timezone.now()
    soon, _ = issue(workspace, owner, name="soon", expires_at=now + timedelta(days=6))
    issue(workspace, owner, name="later", expires_at=now + timedelta(days=8))
    issue(workspace, owner, name="never")

    first = announce_expiring_keys(now=now)
    again = announce_expiring_keys(now=now + timedelta(hours=1))

    assert (first, again) == (1, 0)
    ((_, data),) = data_of("key.expiring")
    assert (data["key_id"], data["name"]) == (soon.public_id, "soon")


@pytest.mark.django_db
def test_a_transaction_of_many_events_queues_one_dispatch_after_commit(
        workspace, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        for _ in range(3):
            emit(workspace=workspace, environment="sandbox", type="key.revoked", data={})

    assert len(callbacks) == 1


@pytest.mark.django_db
def test_an_event_after_a_rolled_back_savepoint_queues_its_own_dispatch(
        workspace, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            emit(workspace=workspace, environment="sandbox", type="key.revoked", data={})
            raise RuntimeError  # the savepoint rolls back with its callback
        kept = emit(workspace=workspace, environment="sandbox", type="key.revoked", data={})

    assert [callback.event_id for callback in callbacks] == [kept.pk]
