from datetime import UTC, datetime

import pytest

from onboarding.lanes import Person, WorkspaceFacts, checklist, next_lane, progress, review_lines
from onboarding.tests.purity import our_modules_loaded_by
from workspaces.roles import Role

T = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
DEV = Person("Dana Lee", (Role.DEVELOPER,))
OWNER = Person("Sam Owner", (Role.OWNER,))


def facts(**changes) -> WorkspaceFacts:
    base = dict(organization_slug="acme", organization_name="Acme", workspace_slug="pay",
                workspace_name="Payouts", people=(OWNER, DEV))
    return WorkspaceFacts(**{**base, **changes})


APPROVED = dict(sandbox_status="approved", sandbox_requested_at=T, sandbox_decided_at=T)
SANDBOX_DONE = dict(first_key_at=T, first_call_at=T, webhook_acknowledged_at=T,
                    usage_reviewed_at=T)
LIVE = dict(production_approved_at=T, first_live_key_at=T, first_live_call_at=T,
            production_webhook_at=T, live_keys=2)


@pytest.mark.parametrize(
    ("given", "roles", "key", "title", "yours", "url_name", "owner"),
    [
        (facts(), [Role.DEVELOPER], "request_sandbox", "Request sandbox access", True,
         "sandbox_request", "you"),
        (facts(), [Role.BILLING_CONTACT], "request_sandbox", "Request sandbox access", False,
         "sandbox_request", "Dana Lee (developer), Sam Owner (owner)"),
        (facts(sandbox_status="pending", sandbox_requested_at=T), [Role.OWNER],
         "sandbox_pending", "Sandbox access is being reviewed", False, "sandbox_request",
         "a platform reviewer"),
        (facts(sandbox_status="denied", sandbox_requested_at=T, sandbox_reason="Too vague."),
         [Role.OWNER], "sandbox_denied", "Sandbox access was denied", True, "sandbox_request",
         "you"),
        (facts(**APPROVED), [Role.DEVELOPER], "first_key", "Issue your first sandbox key",
         True, "key_list", "you"),
        (facts(**APPROVED), [Role.VIEWER], "first_key", "Issue your first sandbox key",
         False, "key_list", "Dana Lee (developer), Sam Owner (owner)"),
        (facts(**APPROVED, first_key_at=T), [Role.DEVELOPER], "first_call",
         "Make your first API call", True, "usage", "you"),
        (facts(**APPROVED, first_key_at=T, first_call_at=T), [Role.TECHNICAL_LEAD],
         "webhook", "Connect a webhook endpoint", True, "webhook_list", "you"),
        (facts(**APPROVED, first_key_at=T, first_call_at=T, webhook_acknowledged_at=T),
         [Role.VIEWER], "review_usage", "Review your usage", True, "usage", "you"),
        (facts(**APPROVED, first_key_at=T, first_call_at=T, webhook_acknowledged_at=T,
               usage_reviewed_at=T), [Role.COMPLIANCE], "production_review",
         "Start the production review", True, "review_overview", "you"),
        (facts(**APPROVED, first_key_at=T, first_call_at=T, webhook_acknowledged_at=T,
               usage_reviewed_at=T), [Role.DEVELOPER], "production_review",
         "Start the production review", False, "review_overview", "Sam Owner (owner)"),
        (facts(**APPROVED, **SANDBOX_DONE, production_approved_at=T), [Role.TECHNICAL_LEAD],
         "first_live_key", "Issue your first live key", True, "key_list", "you"),
        (facts(**APPROVED, **SANDBOX_DONE, production_approved_at=T), [Role.DEVELOPER],
         "first_live_key", "Issue your first live key", False, "key_list", "Sam Owner (owner)"),
        (facts(**APPROVED, **SANDBOX_DONE, production_approved_at=T, first_live_key_at=T),
         [Role.DEVELOPER], "first_live_call", "See your first live call", True,
         "usage_environment", "you"),
        (facts(**APPROVED, **SANDBOX_DONE, production_approved_at=T, first_live_key_at=T,
               first_live_call_at=T), [Role.OWNER], "production_webhook",
         "Connect a production webhook", True, "webhook_list", "you"),
        (facts(**APPROVED, **SANDBOX_DONE, **LIVE), [Role.VIEWER], "live", "Live", True,
         "usage_environment", "you"),
    ],
)
def test_next_lane_for_every_state_and_viewer(given, roles, key, title, yours, url_name, owner):
    lane = next_lane(given, roles)

    assert (lane.key, lane.title, lane.yours, lane.url_name, lane.owner) == (
        key, title, yours, url_name, owner)


def test_first_call_and_usage_review_lead_to_the_workspace_usage_page():
    calling = next_lane(facts(**APPROVED, first_key_at=T), [Role.DEVELOPER])
    reviewing = next_lane(facts(**APPROVED, first_key_at=T, first_call_at=T,
                                webhook_acknowledged_at=T), [Role.VIEWER])

    assert (calling.url_name, calling.url_args) == ("usage", ("acme", "pay"))
    assert (reviewing.url_name, reviewing.url_args, reviewing.button) == (
        "usage", ("acme", "pay"), "Review usage")


def test_a_step_of_someone_else_names_who_it_waits_on():
    lane = next_lane(facts(**APPROVED), [Role.BILLING_CONTACT])

    assert lane.sentence == ("Issue your first sandbox key is waiting on Dana Lee (developer), "
                             "Sam Owner (owner).")


def test_a_step_names_the_owner_when_only_an_owner_holds_its_role():
    given = facts(**APPROVED, first_key_at=T, first_call_at=T, webhook_acknowledged_at=T,
                  usage_reviewed_at=T, people=(Person("Sam", (Role.OWNER, Role.DEVELOPER)),))

    lane = next_lane(given, [Role.DEVELOPER])

    assert (lane.key, lane.owner) == ("production_review", "Sam (owner)")


def test_checklist_marks_done_current_waiting_and_upcoming():
    items = checklist(facts(sandbox_status="pending", sandbox_requested_at=T), [Role.OWNER])

    assert [(i.key, i.status) for i in items] == [
        ("request_sandbox", "waiting"), ("first_key", "upcoming"), ("first_call", "upcoming"),
        ("webhook", "upcoming"), ("review_usage", "upcoming"), ("production_review", "upcoming"),
        ("first_live_key", "upcoming"), ("first_live_call", "upcoming"),
        ("production_webhook", "upcoming"),
    ]
    assert items[0].owner == "a platform reviewer"
    assert progress(items) == (0, 9)


def test_checklist_records_when_each_step_was_done():
    items = checklist(facts(**APPROVED, first_key_at=T), [Role.DEVELOPER])

    assert [(i.status, i.done_at) for i in items[:3]] == [
        ("done", T), ("done", T), ("current", None)]
    assert progress(items) == (2, 9)


def test_live_says_where_production_stands_and_never_reopens_the_page_shown():
    lane = next_lane(facts(**APPROVED, **SANDBOX_DONE, **LIVE), [Role.OWNER])

    assert lane.sentence == ("In production since 20 Nov 2026: 2 active live keys, first live "
                             "call on 20 Nov 2026, a production webhook connected.")
    assert (lane.button, lane.url_args) == ("Open production usage",
                                            ("acme", "pay", "production"))
    assert lane.alternate == ("Open the workspace overview", "workspace_overview",
                              ("acme", "pay"))
    assert progress(checklist(facts(**APPROVED, **SANDBOX_DONE, **LIVE), [Role.OWNER])) == (
        9, 9)


READY = dict(**APPROVED, first_key_at=T, first_call_at=T, webhook_acknowledged_at=T,
             usage_reviewed_at=T, review_started_at=T)
TEAM = (OWNER, DEV, Person("Cora", (Role.COMPLIANCE,)), Person("Tess", (Role.TECHNICAL_LEAD,)),
        Person("Bea", (Role.BILLING_CONTACT,)))


def stages(consent="not_started", billing="not_started", integration="not_started",
           audit="not_started"):
    return (("consent", consent), ("billing", billing), ("integration", integration),
            ("audit", audit))


@pytest.mark.parametrize(("review", "roles", "key", "title", "yours", "owner"), [
    (stages(), [Role.COMPLIANCE], "review_consent", "Consent review: yours to do", True, "you"),
    (stages(consent="submitted"), [Role.COMPLIANCE], "production_review",
     "Production review in progress", False, "a platform reviewer"),
    (stages(consent="changes_requested"), [Role.TECHNICAL_LEAD], "review_consent",
     "Consent review: yours to do", True, "you"),
    # Nobody fills in the integration verification: the portal submits it.
    (stages(consent="approved"), [Role.TECHNICAL_LEAD], "production_review",
     "Production review in progress", False, "Bea (billing contact)"),
    # An Owner may fill in consent and billing, but their named owners come first; the
    # Owner invites the Security owner the audit-ready checks need and nobody holds...
    (stages(), [Role.OWNER], "review_invite_security_owner", "Invite a Security owner", True,
     "you"),
    # ...and the Billing contact billing setup needs (the Owner may fill it in, but its
    # checks ask for one).
    (stages(billing="changes_requested"), [Role.OWNER], "review_invite_billing_contact",
     "Invite a Billing contact", True, "you"),
    (stages(), [Role.BILLING_CONTACT], "review_billing", "Billing setup: yours to do", True,
     "you"),
    (stages(), [Role.DEVELOPER], "production_review", "Production review in progress", False,
     "Cora (compliance / audit), Tess (technical lead)"),
])
def test_the_started_review_lane_for_every_viewer(review, roles, key, title, yours, owner):
    people = TEAM if key != "review_invite_billing_contact" else TEAM[:-1]
    lane = next_lane(facts(**READY, review_stages=review, people=people), roles)

    assert (lane.key, lane.title, lane.yours, lane.owner) == (key, title, yours, owner)
    assert [line.kind for line in lane.stages] == ["consent", "billing", "integration",
                                                    "audit"]


def test_review_lines_name_each_stage_owner_and_who_it_waits_on():
    given = facts(**READY, people=TEAM,
                  review_stages=stages(consent="submitted", billing="approved"))

    lines = review_lines(given, [Role.BILLING_CONTACT])

    assert [(line.title, line.status_label, line.owner, line.yours, line.waits_on)
            for line in lines] == [
        ("Consent review", "Submitted", "Cora (compliance / audit), Tess (technical lead)",
         False, "a platform reviewer"),
        ("Billing setup", "Approved", "you", False, ""),
        ("Integration verification", "Not started", "the portal, from sandbox activity",
         False, "its sandbox checks"),
        ("Audit-ready checks", "Not started",
         "a security owner, and nobody holds that role yet", False,
         "Sam Owner (owner) to invite a Security owner"),
    ]
    assert next_lane(given, [Role.DEVELOPER]).sentence == (
        "Production review is waiting on a platform reviewer for consent review; "
        "its sandbox checks for integration verification; Sam Owner (owner) to invite a "
        "Security owner for audit-ready checks.")


@pytest.mark.parametrize(("roles", "mfa", "key"), [
    ([Role.TECHNICAL_LEAD], False, "review_mfa"),
    ([Role.OWNER], False, "review_mfa"),
    ([Role.TECHNICAL_LEAD], True, "production_review"),
    ([Role.DEVELOPER], False, "production_review"),
])
def test_an_owner_or_lead_without_mfa_is_told_the_audit_stage_waits_on_them(roles, mfa, key):
    given = facts(**READY, people=TEAM, review_stages=stages(consent="submitted"))

    lane = next_lane(given, roles, viewer_mfa=mfa)

    assert lane.key == key
    if key == "review_mfa":
        assert (lane.url_name, lane.yours) == ("mfa_index", True)
        assert lane.sentence.startswith("The audit-ready checks wait on your two-factor")


def test_after_the_review_starts_the_checklist_shows_its_progress():
    given = facts(**READY, people=TEAM, review_stages=stages(consent="approved",
                                                             billing="approved"))

    (item,) = [i for i in checklist(given, [Role.OWNER]) if i.key == "production_review"]

    assert (item.key, item.title, item.status) == ("production_review", "Production review",
                                                   "current")


def test_lanes_imports_no_model_no_query_and_no_request():
    # lanes loads only pure modules of ours: the review catalog and the roles table
    assert our_modules_loaded_by("onboarding.lanes") == [
        "onboarding", "onboarding.lanes", "onboarding.review", "onboarding.review.catalog",
        "workspaces", "workspaces.roles"]


SID = Person("Sid", (Role.SECURITY_OWNER,))
BEA = Person("Bea", (Role.BILLING_CONTACT,))
CORA = Person("Cora", (Role.COMPLIANCE,))


@pytest.mark.parametrize(("people", "review", "key", "button", "query"), [
    # Alone, the Owner fills in the consent review first (an Owner may)...
    ((OWNER,), stages(), "review_consent", "Open consent review", ()),
    # ...then billing setup needs a Billing contact, which nobody holds.
    ((OWNER,), stages(consent="submitted"), "review_invite_billing_contact",
     "Invite a Billing contact", (("role", "billing_contact"),)),
    # Billing has its contact; the audit-ready checks need a Security owner...
    ((OWNER, BEA, CORA), stages(consent="approved"), "review_invite_security_owner",
     "Invite a Security owner", (("role", "security_owner"),)),
    # ...and a compliance contact.
    ((OWNER, BEA, SID), stages(consent="approved", billing="submitted"),
     "review_invite_compliance", "Invite a Compliance / audit", (("role", "compliance"),)),
    # Every role held: nothing to invite, the review waits on its reviewers.
    ((OWNER, BEA, SID, CORA), stages(consent="submitted", billing="submitted",
                                     audit="submitted"), "production_review",
     "Open the production review", ()),
    # A stage already with the reviewers or approved asks for nobody.
    ((OWNER,), stages(consent="approved", billing="approved", audit="submitted"),
     "production_review", "Open the production review", ()),
])
def test_an_owner_is_offered_to_invite_the_role_a_review_stage_needs_and_nobody_holds(
        people, review, key, button, query):
    lane = next_lane(facts(**READY, review_stages=review, people=people), [Role.OWNER])

    assert (lane.key, lane.button, lane.query) == (key, button, query)
    if query:
        assert (lane.url_name, lane.url_args, lane.yours) == ("invitations", ("acme",), True)


def test_the_invite_lane_says_which_roles_are_missing():
    lane = next_lane(facts(**READY, people=(OWNER, BEA), review_stages=stages(
        consent="approved", billing="approved")), [Role.OWNER])

    assert (lane.title, lane.sentence) == (
        "Invite a Security owner", "Audit-ready checks needs a Security owner and a "
        "Compliance / audit; nobody in Acme holds those roles yet.")


@pytest.mark.parametrize("roles", [[Role.TECHNICAL_LEAD], [Role.COMPLIANCE, Role.VIEWER]])
def test_others_are_told_which_owner_can_invite_the_missing_role(roles):
    given = facts(**READY, people=(OWNER, Person("Tess", (Role.TECHNICAL_LEAD,))),
                  review_stages=stages(consent="submitted"))

    lane = next_lane(given, roles)

    assert (lane.key, lane.yours) == ("production_review", False)
    assert "Sam Owner (owner) to invite a Billing contact for billing setup" in lane.sentence


def test_roles_held_across_the_whole_organization_count_beyond_the_people_named():
    # given a billing contact among members too many to name
    given = facts(**READY, people=(OWNER,), review_stages=stages(consent="submitted"),
                  roles_held=frozenset({Role.OWNER, Role.BILLING_CONTACT, Role.SECURITY_OWNER,
                                        Role.COMPLIANCE}))

    lane = next_lane(given, [Role.OWNER])

    assert lane.key == "review_billing"


def test_a_role_already_invited_waits_on_the_invitee_not_on_another_invitation():
    given = facts(**READY, people=(OWNER, SID, CORA), roles_invited=frozenset({"billing_contact"}),
                  review_stages=stages(consent="submitted"))

    lane = next_lane(given, [Role.OWNER])
    (billing,) = [line for line in lane.stages if line.kind == "billing"]

    # the Owner may fill in billing setup meanwhile
    assert (lane.key, lane.query) == ("review_billing", ())
    assert (billing.missing, billing.yours) == ((), True)
    assert next_lane(given, [Role.DEVELOPER]).stages[1].waits_on == (
        "the invited Billing contact to accept")
