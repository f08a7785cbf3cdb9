"""Invitations hold against someone who signs up for free: squatting, stale inviters."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import User
from audit.models import Action, AuditEvent
from workspaces.models import Invitation, InvitationStatus, Membership
from workspaces.roles import Role
from workspaces.services import invitations, members

CFO = "cfo@acme.test"


@pytest.fixture
def organization(workspace):
    return workspace.organization


@pytest.fixture
def invite(owner, organization, django_capture_on_commit_callbacks):
    """Invite an address; returns (invitation, token from the emailed link)."""

    def send(email=CFO, roles=(Role.BILLING_CONTACT,), actor=None):
        with django_capture_on_commit_callbacks(execute=True):
            invitation, _ = invitations.invite_member(
                actor=actor or owner, organization=organization, email=email, roles=roles)
        token = re.search(r"/invitations/([\w-]+)/", mail.outbox[-1].body).group(1)
        return invitation, token

    return send


@pytest.mark.django_db
def test_an_unverified_address_on_another_account_does_not_block_the_invitee(
        client, invite, organization, user_factory, password,
        django_capture_on_commit_callbacks):
    # given an attacker who added the CFO's address, unverified, to their own account
    attacker = user_factory(email="mallory@evil.test")
    EmailAddress.objects.create(user=attacker, email=CFO, verified=False, primary=False)
    _, token = invite()

    # when the CFO opens the invitation and signs up with it
    client.get(reverse("invitation", args=[token]))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_signup"), {
            "full_name": "Carla Fo", "email": CFO, "password1": password, "password2": password,
        })

    # then the CFO has an account with the address verified, and has joined
    cfo = User.objects.get(email=CFO)
    assert EmailAddress.objects.get(email=CFO).user == cfo
    assert EmailAddress.objects.get(email=CFO).verified
    assert Membership.objects.get(user=cfo).organization == organization
    assert Invitation.objects.get().status == InvitationStatus.ACCEPTED
    page = client.get(reverse("organization_home", args=[organization.slug]))
    assert organization.name in page.content.decode()
    assert not [m for m in mail.outbox if "already" in m.subject.lower()]
    released = AuditEvent.objects.get(action=Action.EMAIL_REMOVED, target_id=str(attacker.pk))
    assert released.details["email"] == CFO


@pytest.mark.django_db
def test_a_sign_up_without_the_invitation_does_not_take_an_address(client, user_factory,
                                                                   password):
    holder = user_factory(email="holder@acme.test")
    EmailAddress.objects.create(user=holder, email=CFO, verified=False, primary=False)

    client.post(reverse("account_signup"), {
        "full_name": "Someone", "email": CFO, "password1": password, "password2": password,
    })

    assert EmailAddress.objects.get(email=CFO).user == holder
    assert not User.objects.filter(email=CFO).exists()


# --- invitations whose sender may no longer invite ----------------------------------


@pytest.fixture
def second_owner(organization, membership_factory):
    return membership_factory(organization=organization, roles=[Role.OWNER])


@pytest.mark.django_db
@pytest.mark.parametrize("change", ["removed", "demoted"])
def test_an_invitation_stops_working_when_its_sender_may_no_longer_invite(
        client, invite, owner, organization, second_owner, user_factory, change):
    _, token = invite(actor=second_owner.user)
    if change == "removed":
        members.remove_member(actor=owner, organization=organization,
                               membership_id=second_owner.pk)
    else:
        members.change_roles(actor=owner, organization=organization,
                              membership_id=second_owner.pk, roles=[Role.DEVELOPER])
    cfo = user_factory(email=CFO)
    client.force_login(cfo)

    response = client.post(reverse("invitation", args=[token]))

    assert (f"{second_owner.user.display_name} can no longer invite people to {organization}"
            in response.content.decode())
    assert not Membership.objects.filter(user=cfo).exists()
    assert Invitation.objects.get().status == InvitationStatus.PENDING


@pytest.mark.django_db
def test_an_invitation_from_someone_who_still_manages_members_works(
        client, invite, organization, second_owner, user_factory):
    _, token = invite(actor=second_owner.user)
    cfo = user_factory(email=CFO)
    client.force_login(cfo)

    client.post(reverse("invitation", args=[token]))

    assert Membership.objects.get(user=cfo).organization == organization


# --- the address a link proved is forgotten with the invitation ---------------------


@pytest.mark.django_db
@pytest.mark.parametrize("change", ["revoked", "expired"])
def test_signing_up_after_the_invitation_ended_needs_email_verification(
        client, invite, owner, organization, password, change,
        django_capture_on_commit_callbacks):
    invitation, token = invite()
    client.get(reverse("invitation", args=[token]))
    if change == "revoked":
        invitations.revoke_invitation(actor=owner, organization=organization,
                                   invitation_id=invitation.pk)
    else:
        Invitation.objects.filter(pk=invitation.pk).update(expires_at=invitation.created_at)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_signup"), {
            "full_name": "Carla Fo", "email": CFO, "password1": password, "password2": password,
        })

    cfo = User.objects.get(email=CFO)
    assert not EmailAddress.objects.get(user=cfo).verified
    assert not Membership.objects.filter(user=cfo).exists()
    assert "/accounts/confirm-email/" in mail.outbox[-1].body


# --- how often ----------------------------------------------------------------------


@pytest.fixture
def limits(settings):
    settings.PORTAL_ACTION_LIMITS = {
        **settings.PORTAL_ACTION_LIMITS,
        "member.invited": {"organization": (3, 3600), "person": (2, 3600)},
        "member.invitation_resent": {"organization": (2, 3600), "person": (2, 3600)},
        "organization.domain_claimed": {"organization": (1, 86400), "person": (5, 86400)},
    }


@pytest.mark.django_db
def test_a_person_inviting_too_often_is_told_next_to_the_form(client, limits, owner,
                                                              organization, password):
    client.force_login(owner)
    page = reverse("invitations", args=[organization.slug])
    for n in range(2):
        client.post(page, {"email": f"hire{n}@acme.test", "roles": [Role.DEVELOPER]})

    response = client.post(page, {"email": "hire2@acme.test", "roles": [Role.DEVELOPER]})

    assert response.status_code == 400
    assert ("Too many invitations from you in the last hour (at most 2). Try again later."
            in response.content.decode())
    assert Invitation.objects.count() == 2


@pytest.mark.django_db
def test_an_organization_inviting_too_often_is_stopped_whoever_invites(
        limits, owner, organization, second_owner, invite):
    invite(email="a@acme.test")
    invite(email="b@acme.test")
    invite(email="c@acme.test", actor=second_owner.user)

    with pytest.raises(ValidationError, match=f"Too many invitations from {organization}"):
        invitations.invite_member(actor=second_owner.user, organization=organization,
                                  email="d@acme.test", roles=[Role.DEVELOPER])


@pytest.mark.django_db
def test_resending_too_often_is_refused(limits, owner, organization, invite):
    invitation, _ = invite()
    for _ in range(2):
        invitations.resend_invitation(actor=owner, organization=organization,
                                      invitation_id=invitation.pk)

    with pytest.raises(ValidationError, match="Too many invitation resends"):
        invitations.resend_invitation(actor=owner, organization=organization,
                                      invitation_id=invitation.pk)


@pytest.mark.django_db
def test_claiming_domains_too_often_is_refused(limits, owner, organization):
    from workspaces.domain_claims import claim_domain

    claim_domain(actor=owner, organization=organization, domain="acme.test")

    with pytest.raises(ValidationError, match=f"Too many domain claims from {organization}"):
        claim_domain(actor=owner, organization=organization, domain="acme-payments.test")


@pytest.mark.django_db
def test_replacing_an_expired_invitation_is_audited(owner, organization, invite):
    invitation, _ = invite()
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=invitation.created_at)

    invite()

    [event] = AuditEvent.objects.filter(action=Action.INVITATION_REPLACED)
    assert (event.actor, event.target_id, event.details) == (
        owner, str(invitation.pk), {"email": CFO})
