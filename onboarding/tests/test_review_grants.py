"""The review's services act on the roles a member holds in the workspace (their guardian
grants there), as its pages do: a contractor who is Technical lead in one workspace fills in
that workspace's stages only, and is mailed about that workspace only."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from onboarding.models import ReviewStage
from onboarding.review import services
from onboarding.review.evidence import audit_checks, billing_checks
from onboarding.review.services.common import emails, owner_emails
from onboarding.tests.factories import turn_on_mfa
from onboarding.tests.test_review_pages import CONSENT_FORM
from workspaces.grants import grant
from workspaces.roles import Role


@pytest.fixture
def acme(workspace_factory, organization_factory, membership_factory, user_factory):
    """Checkout and Payouts, both with sandbox access and a started review."""
    owner = user_factory(email="olga@acme.test")
    organization = organization_factory(name="Acme", slug="acme", created_by=owner)
    membership_factory(user=owner, organization=organization, roles=[Role.OWNER])
    workspaces = {}
    for name in ("Checkout", "Payouts"):
        workspace = workspace_factory(organization=organization, name=name,
                                      slug=name.lower(), created_by=owner,
                                      sandbox_approved_at=timezone.now())
        services.start_production_review(actor=owner, workspace=workspace)
        workspaces[name.lower()] = workspace
    return workspaces


@pytest.fixture
def contractor(acme, membership_factory, user_factory):
    """A Viewer of the organization who is Technical lead in Checkout only."""
    member = membership_factory(organization=acme["checkout"].organization,
                                roles=[Role.VIEWER], user=user_factory(email="cole@ext.test"))
    grant(member.user, acme["checkout"], [Role.TECHNICAL_LEAD])
    return member


def stage_url(workspace, kind):
    return reverse("review_stage", args=["acme", workspace.slug, kind])


@pytest.mark.django_db
def test_a_technical_lead_of_one_workspace_fills_in_its_consent_review_and_not_another_s(
    client, acme, contractor
):
    client.force_login(contractor.user)

    granted = client.post(stage_url(acme["checkout"], "consent"),
                          {**CONSENT_FORM, "action": "submit"})
    elsewhere = client.get(stage_url(acme["payouts"], "consent")).content.decode()
    refused = client.post(stage_url(acme["payouts"], "consent"), CONSENT_FORM)

    assert granted.status_code == 302
    assert ReviewStage.objects.get(review__workspace=acme["checkout"],
                                   kind="consent").status == "submitted"
    assert "Its answers, evidence and decisions are shown to these roles only" in elsewhere
    assert 'name="action"' not in elsewhere
    assert refused.status_code == 403
    assert ReviewStage.objects.get(review__workspace=acme["payouts"],
                                   kind="consent").answers == {}
    with pytest.raises(PermissionDenied):
        services.save_stage_answers(actor=contractor.user, workspace=acme["payouts"],
                                    kind="consent", answers={"terms_url": "https://x.example"})


@pytest.mark.django_db
def test_a_contractor_restricted_to_one_workspace_finds_no_other_s_review(
    client, acme, contractor
):
    contractor.restricted = True
    contractor.save()
    client.force_login(contractor.user)

    saved = client.post(stage_url(acme["checkout"], "consent"), CONSENT_FORM)
    missing = client.post(stage_url(acme["payouts"], "consent"), CONSENT_FORM)

    assert saved.status_code == 302
    assert ReviewStage.objects.get(review__workspace=acme["checkout"],
                                   kind="consent").answers["terms_url"] == CONSENT_FORM[
        "terms_url"]
    assert missing.status_code == 404
    assert "Consent review" not in missing.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(("setup", "checkout", "payouts"), [
    ("lead in checkout only", True, False),
    ("organization lead, viewer in payouts", True, False),
    ("organization lead, restricted to checkout", True, False),
    ("organization lead", True, True),
    ("organization viewer", False, False),
])
def test_only_members_holding_the_role_in_the_workspace_are_mailed(
    acme, membership_factory, user_factory, setup, checkout, payouts
):
    roles = [Role.VIEWER] if setup in ("lead in checkout only", "organization viewer") \
        else [Role.TECHNICAL_LEAD]
    member = membership_factory(organization=acme["checkout"].organization, roles=roles,
                                user=user_factory(email="pat@acme.test"),
                                restricted=setup.endswith("restricted to checkout"))
    if setup == "lead in checkout only":
        grant(member.user, acme["checkout"], [Role.TECHNICAL_LEAD])
    elif setup == "organization lead, viewer in payouts":
        grant(member.user, acme["payouts"], [Role.VIEWER])
    elif setup.endswith("restricted to checkout"):
        grant(member.user, acme["checkout"])

    assert ("pat@acme.test" in emails(acme["checkout"], [Role.TECHNICAL_LEAD])) is checkout
    assert ("pat@acme.test" in emails(acme["payouts"], [Role.TECHNICAL_LEAD])) is payouts
    assert ("pat@acme.test" in owner_emails(acme["payouts"], "consent")) is payouts
    assert emails(acme["payouts"], [Role.OWNER]) == ["olga@acme.test"]


@pytest.mark.django_db
def test_the_portal_s_checks_count_the_roles_held_in_the_workspace(
    acme, contractor, membership_factory, user_factory
):
    """The contractor leads Checkout without two-factor authentication; a billing contact
    is restricted to Payouts."""
    turn_on_mfa(acme["checkout"].created_by)
    billing = membership_factory(organization=acme["checkout"].organization,
                                 roles=[Role.BILLING_CONTACT], restricted=True,
                                 user=user_factory(full_name="Dana Lee"))
    grant(billing.user, acme["payouts"])

    checks = {name: {c.key: c for c in audit_checks(w) + billing_checks(w)}
              for name, w in acme.items()}

    assert (checks["checkout"]["mfa"].passed, checks["checkout"]["mfa"].detail) == (
        False, f"Not yet on for: {contractor.user.display_name}.")
    assert (checks["payouts"]["mfa"].passed, checks["payouts"]["mfa"].detail) == (
        True, "On for all 1.")
    assert checks["checkout"]["billing_contact"].detail == (
        "Nobody holds the Billing contact role yet; invite one.")
    assert (checks["payouts"]["billing_contact"].passed,
            checks["payouts"]["billing_contact"].detail) == (True, "Dana Lee")
