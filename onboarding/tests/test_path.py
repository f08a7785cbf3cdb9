"""The operator path as a table: account facts and workspace facts in, steps out."""

import re
from datetime import UTC, datetime

import pytest

from accounts.access import (
    AccessFacts,
    InvitationFact,
    JoinRequestFact,
    OrganizationFact,
    WorkspaceFact,
)
from docs.pages import CONTENT_DIR
from onboarding.lanes import Person, WorkspaceFacts, next_lane
from onboarding.path import STEPS, AccountMoments, WorkspaceView, operator_path
from onboarding.tests.purity import our_modules_loaded_by
from workspaces.roles import Role

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
T1 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
T = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
MOMENTS = AccountMoments(signed_in_at=T0, email_verified_at=T1)
DANA = Person("Dana Lee", (Role.DEVELOPER,))
SAM = Person("Sam Owner", (Role.OWNER,))
WS = WorkspaceFact("Payouts", "pay", T1)


def org(*workspaces, can_create=True, owners=("Sam Owner",)):
    return OrganizationFact("Acme", "acme", ("Owner",), tuple(workspaces), can_create, T1,
                            owners)


def account(**changes) -> AccessFacts:
    return AccessFacts(**{"email": "ana@acme.test", "email_verified": True, **changes})


def ws_facts(**changes) -> WorkspaceFacts:
    base = dict(organization_slug="acme", organization_name="Acme", workspace_slug="pay",
                workspace_name="Payouts", people=(SAM, DANA))
    return WorkspaceFacts(**{**base, **changes})


def states(steps):
    return [(s.key, s.state) for s in steps]


APPROVED = dict(sandbox_status="approved", sandbox_requested_at=T, sandbox_decided_at=T,
                sandbox_approved_at=T)
SANDBOX_DONE = dict(first_key_at=T, first_call_at=T, webhook_acknowledged_at=T,
                    usage_reviewed_at=T)


@pytest.mark.parametrize(("facts", "expected", "button", "waiting_on"), [
    (account(email_verified=False),
     ["done", "current", "ahead", "ahead"], "Resend verification email", ""),
    (account(), ["done", "done", "current", "ahead"], "Create an organization", ""),
    (account(invitations=(InvitationFact(7, "Acme", ("Developer",), "Sam Owner"),)),
     ["done", "done", "current", "ahead"], "Accept invitation", ""),
    (account(join_requests=(JoinRequestFact(3, "Acme", ("Sam Owner", "Ola Owner"), T),)),
     ["done", "done", "waiting", "ahead"], "", "Sam Owner (owner), Ola Owner (owner)"),
    (account(organizations=(org(),)), ["done", "done", "done", "current"],
     "Create a workspace", ""),
    (account(organizations=(org(can_create=False),)), ["done", "done", "done", "waiting"],
     "", "Sam Owner (owner)"),
    # An invitation elsewhere does not hold back the first organization's workspace.
    (account(organizations=(org(),),
             invitations=(InvitationFact(7, "Beta", ("Viewer",), "Bo"),)),
     ["done", "done", "done", "current"], "Create a workspace", ""),
    (account(organizations=(org(WS),)), ["done", "done", "done", "done"], "", ""),
])
def test_the_account_steps_for_every_access_state(facts, expected, button, waiting_on):
    path = operator_path(facts, MOMENTS)

    assert [s.state for s in path.account] == expected
    now = [s for s in path.account if s.state in ("current", "waiting")]
    assert [(s.button, s.waiting_on) for s in now] == ([(button, waiting_on)] if now else [])
    # without a workspace, the workspace's steps are all ahead
    assert [s.state for s in path.ahead] == ["ahead"] * 7


def test_done_account_steps_say_when():
    path = operator_path(account(organizations=(org(WS),)), MOMENTS)

    assert [(s.label, s.when) for s in path.account] == [
        ("Signed in", T0), ("Email verified", T1), ("Attached to an organization", T1),
        ("A workspace", T1)]


@pytest.mark.parametrize(("given", "roles", "expected", "now"), [
    (ws_facts(), [Role.DEVELOPER], ["current"] + ["ahead"] * 6,
     ("sandbox", "current", "Request sandbox access", "")),
    (ws_facts(sandbox_status="pending", sandbox_requested_at=T), [Role.OWNER],
     ["waiting"] + ["ahead"] * 6, ("sandbox", "waiting", "", "a platform reviewer")),
    (ws_facts(**APPROVED), [Role.BILLING_CONTACT], ["done", "waiting"] + ["ahead"] * 5,
     ("first_key", "waiting", "", "Dana Lee (developer), Sam Owner (owner)")),
    (ws_facts(**APPROVED, first_key_at=T), [Role.DEVELOPER],
     ["done", "done", "current"] + ["ahead"] * 4,
     ("first_call", "current", "Watch for your first call", "")),
    # A webhook acknowledged before the first call stays done.
    (ws_facts(**APPROVED, first_key_at=T, webhook_acknowledged_at=T), [Role.DEVELOPER],
     ["done", "done", "current", "done", "ahead", "ahead", "ahead"],
     ("first_call", "current", "Watch for your first call", "")),
    (ws_facts(**APPROVED, **SANDBOX_DONE), [Role.DEVELOPER], ["done"] * 5 + ["waiting", "ahead"],
     ("production_review", "waiting", "", "Sam Owner (owner)")),
    (ws_facts(**APPROVED, **SANDBOX_DONE, review_started_at=T, people=(SAM,),
              review_stages=(("consent", "submitted"), ("billing", "not_started"),
                             ("integration", "not_started"), ("audit", "not_started"))),
     [Role.OWNER], ["done"] * 5 + ["current", "ahead"],
     ("production_review", "current", "Invite a Billing contact", "")),
    (ws_facts(**APPROVED, **SANDBOX_DONE, production_approved_at=T), [Role.TECHNICAL_LEAD],
     ["done"] * 6 + ["current"], ("production", "current", "Issue a live key", "")),
    (ws_facts(**APPROVED, **SANDBOX_DONE, production_approved_at=T, first_live_key_at=T,
              first_live_call_at=T, production_webhook_at=T, live_keys=1), [Role.VIEWER],
     ["done"] * 7, None),
])
def test_each_workspace_line_follows_its_lane_for_this_viewer(given, roles, expected, now):
    path = operator_path(account(organizations=(org(WS),)), MOMENTS,
                         (WorkspaceView(given, tuple(roles)),))
    (line,) = path.workspaces

    assert [s.state for s in line.steps] == expected
    assert (line.now and (line.now.key, line.now.state, line.now.button,
                          line.now.waiting_on)) == now
    assert path.ahead == ()


def test_a_current_step_offers_exactly_the_banners_button():
    given = ws_facts(**APPROVED, **SANDBOX_DONE, review_started_at=T, people=(SAM,),
                     review_stages=(("consent", "approved"), ("billing", "not_started"),
                                    ("integration", "approved"), ("audit", "approved")))
    lane = next_lane(given, [Role.OWNER])

    (line,) = operator_path(account(organizations=(org(WS),)), MOMENTS,
                            (WorkspaceView(given, (Role.OWNER,)),)).workspaces

    assert (line.now.button, line.now.url_name, line.now.url_args, line.now.query) == (
        lane.button, lane.url_name, lane.url_args, lane.query) == (
        "Invite a Billing contact", "invitations", ("acme",),
        (("role", "billing_contact"),))


def test_several_workspaces_each_have_their_own_line_and_lane():
    pay = ws_facts(**APPROVED)
    shop = ws_facts(workspace_slug="shop", workspace_name="Shop", sandbox_status="pending",
                    sandbox_requested_at=T)

    path = operator_path(account(organizations=(org(WS, WorkspaceFact("Shop", "shop")),)),
                         MOMENTS, (WorkspaceView(pay, (Role.DEVELOPER,)),
                                   WorkspaceView(shop, (Role.DEVELOPER,))))

    assert [(w.workspace_name, w.now.label, w.now.state, w.done) for w in path.workspaces] == [
        ("Payouts", "First sandbox key", "current", 1),
        ("Shop", "Sandbox access", "waiting", 0)]


def test_the_docs_list_the_steps_in_order():
    text = (CONTENT_DIR / "account.md").read_text()
    section = text.split("### Your path to production", 1)[1].split("Each step is", 1)[0]

    assert re.findall(r"^\d+\. \*\*(.+?)\*\*$", section, re.M) == list(STEPS.values())


def test_path_imports_no_model_no_query_and_no_request():
    assert our_modules_loaded_by("onboarding.path") == [
        "accounts", "accounts.access", "onboarding", "onboarding.lanes", "onboarding.path",
        "onboarding.review", "onboarding.review.catalog", "workspaces", "workspaces.roles"]
