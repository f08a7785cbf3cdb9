from datetime import UTC, datetime

import pytest

from accounts.access import (
    AccessFacts,
    AccessKey,
    InvitationFact,
    JoinableFact,
    JoinRequestFact,
    OrganizationFact,
    WorkspaceFact,
    access_state,
)

EMAIL = "dana@acme.test"
INVITE = InvitationFact(7, "Acme", ("Developer",), "Sam Owner")
ASKED = JoinRequestFact(3, "Acme", ("Sam Owner",), datetime(2026, 11, 2, 9, 30, tzinfo=UTC))
EMPTY_ORG_OWNER = OrganizationFact("Acme", "acme", ("Owner",), (), can_create_workspace=True)
EMPTY_ORG_DEV = OrganizationFact("Acme", "acme", ("Developer",), (), can_create_workspace=False)
ORG_WITH_WS = OrganizationFact("Acme", "acme", ("Developer",),
                               (WorkspaceFact("Payouts", "payouts"),))


@pytest.mark.parametrize(
    ("facts", "key", "headline", "button", "url_name", "args"),
    [
        (AccessFacts(EMAIL, False), AccessKey.VERIFY_EMAIL, "Verify your email",
         "Resend verification email", "access_resend_verification", ()),
        (AccessFacts(EMAIL, False, invitations=(INVITE,)), AccessKey.VERIFY_EMAIL,
         "Verify your email", "Resend verification email", "access_resend_verification", ()),
        (AccessFacts(EMAIL, True), AccessKey.NOT_ATTACHED, "Not attached to an organization",
         "Create an organization", "organization_create", ()),
        (AccessFacts(EMAIL, True, joinable=(JoinableFact(1, "Acme"),)), AccessKey.NOT_ATTACHED,
         "Not attached to an organization", "Create an organization", "organization_create", ()),
        (AccessFacts(EMAIL, True, invitations=(INVITE,)), AccessKey.INVITED,
         "Invited to Acme as Developer", "Accept invitation", "access_invitation_accept", (7,)),
        (AccessFacts(EMAIL, True, invitations=(INVITE,), organizations=(ORG_WITH_WS,)),
         AccessKey.INVITED, "Invited to Acme as Developer", "Accept invitation",
         "access_invitation_accept", (7,)),
        (AccessFacts(EMAIL, True, join_requests=(ASKED,)), AccessKey.AWAITING_APPROVAL,
         "Waiting for Acme's admin to approve", "Cancel request", "access_join_request_cancel",
         (3,)),
        (AccessFacts(EMAIL, True, organizations=(EMPTY_ORG_OWNER,)), AccessKey.NO_WORKSPACE,
         "Attached to Acme; no workspace yet", "Create a workspace", "workspace_create",
         ("acme",)),
        (AccessFacts(EMAIL, True, organizations=(EMPTY_ORG_DEV,)), AccessKey.NO_WORKSPACE,
         "Attached to Acme; no workspace yet", "See who can create one", "organization_home",
         ("acme",)),
        (AccessFacts(EMAIL, True, organizations=(EMPTY_ORG_DEV, ORG_WITH_WS)),
         AccessKey.HAS_WORKSPACES, "Your workspaces", "Open Payouts", "workspace_overview",
         ("acme", "payouts")),
    ],
)
def test_access_state_maps_facts_to_one_sentence_and_one_step(
    facts, key, headline, button, url_name, args
):
    state = access_state(facts)

    assert (state.key, state.headline) == (key, headline)
    assert (state.step.label, state.step.url_name, state.step.args) == (button, url_name, args)


def test_unverified_state_names_the_address_the_link_went_to():
    state = access_state(AccessFacts(email=EMAIL, email_verified=False))

    assert EMAIL in state.sentence
    assert state.step.method == "post"


def test_waiting_state_says_who_was_asked_and_when():
    state = access_state(AccessFacts(EMAIL, True, join_requests=(ASKED,)))

    assert state.sentence.startswith("You asked Sam Owner on 02 Nov 2026 at 09:30 UTC.")


def test_not_attached_state_offers_to_join_an_organization_using_the_email_domain():
    state = access_state(AccessFacts(EMAIL, True, joinable=(JoinableFact(1, "Acme"),)))

    assert "Acme uses your email domain" in state.sentence
