import base64
import hashlib
import json
import re
import threading
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from audit.models import Action, AuditEvent
from workspaces.forms import InviteForm
from workspaces.models import Invitation, InvitationStatus, Membership, Workspace
from workspaces.roles import Role
from workspaces.services.invitations import (
    InvitationError,
    accept_invitation,
    decline_invitation,
    find_invitation,
    invitation_problem,
    invite_member,
    resend_invitation,
    revoke_invitation,
)
from workspaces.services.members import restrict_member

INVITED = "new.hire@acme.test"
LINK = re.compile(r"https?://[^\s]+/invitations/(?P<token>[A-Za-z0-9_-]+)/")


def _token_in(message) -> str:
    return LINK.search(message.body)["token"]


def _problem_code(call) -> str:
    with pytest.raises(InvitationError) as raised:
        call()
    return raised.value.code


def _freeze_clock(monkeypatch, moment) -> None:
    monkeypatch.setattr(timezone, "now", lambda: moment)


@pytest.fixture
def organization(workspace):
    return workspace.organization


@pytest.fixture
def invite(owner, organization, django_capture_on_commit_callbacks):
    """Invite an address as the Owner; returns (invitation, token from the emailed link)."""

    def send(email=INVITED, roles=(Role.DEVELOPER,), workspaces=()):
        with django_capture_on_commit_callbacks(execute=True):
            invitation, created = invite_member(
                actor=owner, organization=organization, email=email, roles=roles,
                workspaces=workspaces)
        assert created
        return invitation, _token_in(mail.outbox[-1])

    return send


# --- the token ----------------------------------------------------------------------


@pytest.mark.django_db
def test_invitation_token_has_at_least_128_bits_of_entropy(invite):
    _, token = invite()

    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert len(raw) * 8 >= 128


@pytest.mark.django_db
def test_only_the_sha256_of_the_token_is_stored(invite):
    invitation, token = invite()

    assert mail.outbox[0].to == [INVITED]
    assert f"/invitations/{token}/" in mail.outbox[0].body
    row = Invitation.objects.filter(pk=invitation.pk).values().get()
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert all(token not in str(value) for value in row.values())
    events = list(AuditEvent.objects.values_list("details", flat=True))
    assert events  # the invitation was audited ...
    assert all(token not in json.dumps(details) for details in events)  # ... without it


@pytest.mark.django_db
def test_two_invitations_get_different_tokens(invite):
    _, first = invite("one@acme.test")
    _, second = invite("two@acme.test")

    assert first != second


@pytest.mark.django_db
def test_an_unknown_token_finds_nothing_and_its_page_is_404(client, invite):
    invite()

    assert find_invitation("not-a-real-token") is None
    response = client.get(reverse("invitation", args=["not-a-real-token"]))
    assert response.status_code == 404
    assert invitation_problem(None).code == "not_found"


# --- mail only after commit ------------------------------------------------------------


@pytest.mark.django_db
def test_invitation_email_is_sent_only_after_commit(
    owner, organization, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        invite_member(actor=owner, organization=organization, email=INVITED,
                      roles=[Role.DEVELOPER])
        assert mail.outbox == []  # not committed yet

    assert len(callbacks) == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [INVITED]
    assert mail.outbox[0].subject.endswith(f"invited you to {organization}")


@pytest.mark.django_db
def test_an_invitation_rolled_back_sends_no_email(
    owner, organization, django_capture_on_commit_callbacks
):
    with (django_capture_on_commit_callbacks(execute=True) as callbacks,
          pytest.raises(RuntimeError), transaction.atomic()):
        invite_member(actor=owner, organization=organization, email=INVITED,
                      roles=[Role.DEVELOPER])
        raise RuntimeError("the surrounding work failed")

    assert callbacks == []
    assert mail.outbox == []
    assert not Invitation.objects.exists()


# --- accepting -------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_invited_user_joins_with_the_invited_roles(invite, organization, user_factory):
    invitation, _ = invite(roles=[Role.TECHNICAL_LEAD, Role.SECURITY_OWNER])
    invitee = user_factory(email=INVITED)

    membership = accept_invitation(actor=invitee, invitation_id=invitation.pk)

    assert membership.organization == organization
    assert membership.user == invitee
    assert membership.roles == [Role.TECHNICAL_LEAD, Role.SECURITY_OWNER]
    assert membership.is_active
    assert not membership.restricted
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.ACCEPTED
    assert invitation.decided_by == invitee


@pytest.mark.django_db
def test_an_invitation_can_be_used_only_once(invite, user_factory):
    invitation, _ = invite()
    invitee = user_factory(email=INVITED)
    accept_invitation(actor=invitee, invitation_id=invitation.pk)

    code = _problem_code(lambda: accept_invitation(actor=invitee,
                                                            invitation_id=invitation.pk))

    assert code == "used"
    assert Membership.objects.filter(user=invitee).count() == 1


@pytest.mark.django_db
def test_an_invitation_lasts_seven_days(invite):
    invitation, _ = invite()

    assert invitation.expires_at - invitation.last_sent_at == timedelta(days=7)


@pytest.mark.django_db
def test_an_invitation_still_works_just_before_it_expires(invite, user_factory, monkeypatch):
    invitation, _ = invite()
    invitee = user_factory(email=INVITED)
    _freeze_clock(monkeypatch, invitation.expires_at - timedelta(minutes=1))

    membership = accept_invitation(actor=invitee, invitation_id=invitation.pk)

    assert membership.is_active


@pytest.mark.django_db
def test_an_invitation_expires_after_seven_days(invite, user_factory, monkeypatch):
    invitation, _ = invite()
    invitee = user_factory(email=INVITED)
    _freeze_clock(monkeypatch, invitation.created_at + timedelta(days=7, seconds=1))

    code = _problem_code(lambda: accept_invitation(actor=invitee,
                                                            invitation_id=invitation.pk))

    assert code == "expired"
    assert not Membership.objects.filter(user=invitee).exists()


@pytest.mark.django_db
def test_an_expired_invitation_is_not_pending(invite):
    invitation, _ = invite()
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1))

    assert not Invitation.objects.pending().filter(pk=invitation.pk).exists()
    invitation.refresh_from_db()
    assert invitation_problem(invitation).code == "expired"


@pytest.mark.django_db
def test_a_user_with_another_verified_email_cannot_accept(invite, user_factory):
    invitation, _ = invite()
    someone_else = user_factory(email="someone.else@acme.test")

    code = _problem_code(lambda: accept_invitation(actor=someone_else,
                                                            invitation_id=invitation.pk))

    assert code == "wrong_email"
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.PENDING
    assert not Membership.objects.filter(user=someone_else).exists()


@pytest.mark.django_db
def test_an_unverified_matching_address_cannot_accept(invite, user_factory):
    invitation, _ = invite()
    unverified = user_factory(email=INVITED, verified=False)

    code = _problem_code(lambda: accept_invitation(actor=unverified,
                                                            invitation_id=invitation.pk))

    assert code == "wrong_email"
    assert not Membership.objects.filter(user=unverified).exists()


@pytest.mark.django_db
def test_a_verified_secondary_address_may_accept(invite, user_factory):
    invitation, _ = invite()
    invitee = user_factory(email="private@example.org")
    EmailAddress.objects.create(user=invitee, email=INVITED, verified=True, primary=False)

    membership = accept_invitation(actor=invitee, invitation_id=invitation.pk)

    assert membership.user == invitee


@pytest.mark.django_db
def test_the_link_shows_the_wrong_email_problem_to_another_signed_in_user(
    client, invite, user_factory
):
    _, token = invite()
    client.force_login(user_factory(email="someone.else@acme.test"))

    response = client.post(reverse("invitation", args=[token]), {"decision": "accept"})

    assert response.status_code == 200
    assert f"This invitation is for {INVITED}" in response.content.decode()
    assert Membership.objects.count() == 1  # only the Owner


@pytest.mark.django_db
def test_the_invited_signed_in_user_accepts_from_the_link(client, invite, organization,
                                                         user_factory):
    _, token = invite()
    invitee = user_factory(email=INVITED)
    client.force_login(invitee)

    response = client.post(reverse("invitation", args=[token]), {"decision": "accept"})

    assert response.status_code == 302
    assert response["Location"] == reverse("organization_home", args=[organization.slug])
    assert Membership.objects.get(user=invitee).roles == [Role.DEVELOPER]


# --- resend, revoke, decline -----------------------------------------------------------


@pytest.mark.django_db
def test_resend_issues_a_new_token_and_the_old_one_stops_working(
    client, invite, owner, organization, user_factory, django_capture_on_commit_callbacks
):
    invitation, old_token = invite()

    with django_capture_on_commit_callbacks(execute=True):
        resend_invitation(actor=owner, organization=organization,
                          invitation_id=invitation.pk)

    assert len(mail.outbox) == 2
    assert mail.outbox[1].to == [INVITED]
    new_token = _token_in(mail.outbox[1])
    assert new_token != old_token
    assert find_invitation(old_token) is None
    assert client.get(reverse("invitation", args=[old_token])).status_code == 404
    assert find_invitation(new_token).pk == invitation.pk
    assert client.get(reverse("invitation", args=[new_token])).status_code == 200


@pytest.mark.django_db
def test_resend_extends_the_expiry_and_counts_the_sends(
    invite, owner, organization, user_factory, monkeypatch, django_capture_on_commit_callbacks
):
    invitation, _ = invite()
    five_days_later = invitation.created_at + timedelta(days=5)
    _freeze_clock(monkeypatch, five_days_later)

    with django_capture_on_commit_callbacks(execute=True):
        resent = resend_invitation(actor=owner, organization=organization,
                                   invitation_id=invitation.pk)

    resent.refresh_from_db()
    assert resent.expires_at == five_days_later + timedelta(days=7)
    assert resent.last_sent_at == five_days_later
    assert resent.send_count == 2
    # Still usable after the first link would have expired.
    _freeze_clock(monkeypatch, five_days_later + timedelta(days=6))
    membership = accept_invitation(actor=user_factory(email=INVITED),
                                   invitation_id=invitation.pk)
    assert membership.is_active


@pytest.mark.django_db
def test_an_expired_invitation_can_be_resent(
    invite, owner, organization, user_factory, monkeypatch, django_capture_on_commit_callbacks
):
    invitation, _ = invite()
    _freeze_clock(monkeypatch, invitation.expires_at + timedelta(days=1))

    with django_capture_on_commit_callbacks(execute=True):
        resend_invitation(actor=owner, organization=organization,
                          invitation_id=invitation.pk)

    membership = accept_invitation(actor=user_factory(email=INVITED),
                                   invitation_id=invitation.pk)
    assert membership.roles == [Role.DEVELOPER]


@pytest.mark.django_db
def test_a_revoked_invitation_cannot_be_accepted(invite, owner, organization, user_factory):
    invitation, _ = invite()
    invitee = user_factory(email=INVITED)

    revoke_invitation(actor=owner, organization=organization,
                      invitation_id=invitation.pk)

    code = _problem_code(lambda: accept_invitation(actor=invitee,
                                                            invitation_id=invitation.pk))
    assert code == "revoked"
    assert not Membership.objects.filter(user=invitee).exists()


@pytest.mark.django_db
def test_a_revoked_invitation_cannot_be_resent(invite, owner, organization):
    invitation, _ = invite()
    revoke_invitation(actor=owner, organization=organization,
                      invitation_id=invitation.pk)

    with pytest.raises(ValidationError, match="already revoked"):
        resend_invitation(actor=owner, organization=organization,
                          invitation_id=invitation.pk)


@pytest.mark.django_db
def test_an_invitation_of_another_organization_cannot_be_revoked(
    invite, organization_factory, membership_factory
):
    invitation, _ = invite()
    other = organization_factory()
    membership_factory(user=other.created_by, organization=other, roles=[Role.OWNER])

    with pytest.raises(ValidationError, match="does not exist"):
        revoke_invitation(actor=other.created_by, organization=other,
                          invitation_id=invitation.pk)

    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.PENDING


@pytest.mark.django_db
def test_a_declined_invitation_cannot_be_accepted_later(invite, user_factory):
    invitation, _ = invite()
    invitee = user_factory(email=INVITED)

    decline_invitation(actor=invitee, invitation_id=invitation.pk)

    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.DECLINED
    code = _problem_code(lambda: accept_invitation(actor=invitee,
                                                            invitation_id=invitation.pk))
    assert code == "declined"
    assert not Membership.objects.filter(user=invitee).exists()


@pytest.mark.django_db
def test_only_the_invited_address_may_decline(invite, user_factory):
    invitation, _ = invite()

    code = _problem_code(lambda: decline_invitation(
        actor=user_factory(email="someone.else@acme.test"), invitation_id=invitation.pk))

    assert code == "wrong_email"
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.PENDING


# --- who can be invited ----------------------------------------------------------------


@pytest.mark.django_db
def test_inviting_the_same_address_again_returns_the_open_invitation(
    invite, owner, organization, django_capture_on_commit_callbacks
):
    invitation, _ = invite()

    with django_capture_on_commit_callbacks(execute=True):
        again, created = invite_member(
            actor=owner, organization=organization, email="New.Hire@ACME.test",
            roles=[Role.VIEWER])

    assert created is False
    assert again.pk == invitation.pk
    assert again.roles == [Role.DEVELOPER]
    assert len(mail.outbox) == 1
    assert Invitation.objects.count() == 1


@pytest.mark.django_db
def test_inviting_after_the_old_invitation_expired_makes_a_new_one(
    invite, owner, organization, django_capture_on_commit_callbacks
):
    old, _ = invite()
    Invitation.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(hours=1))

    with django_capture_on_commit_callbacks(execute=True):
        new, created = invite_member(actor=owner, organization=organization,
                                     email=INVITED, roles=[Role.VIEWER])

    assert created is True
    assert new.pk != old.pk
    old.refresh_from_db()
    assert old.status == InvitationStatus.REVOKED
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_inviting_an_active_member_is_refused_on_the_email_field(
    owner, organization, membership_factory, user_factory
):
    member = membership_factory(organization=organization,
                                user=user_factory(email="already@acme.test"))

    with pytest.raises(ValidationError) as raised:
        invite_member(actor=owner, organization=organization,
                      email="Already@Acme.test", roles=[Role.VIEWER])

    assert list(raised.value.error_dict) == ["email"]
    assert f"already a member of {organization}" in raised.value.message_dict["email"][0]
    assert member.user.email == "already@acme.test"
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_a_removed_member_can_be_invited_back(
    owner, organization, membership_factory, user_factory, django_capture_on_commit_callbacks
):
    former = membership_factory(organization=organization, is_active=False,
                                user=user_factory(email=INVITED))

    with django_capture_on_commit_callbacks(execute=True):
        invitation, created = invite_member(
            actor=owner, organization=organization, email=INVITED, roles=[Role.VIEWER])
    membership = accept_invitation(actor=former.user, invitation_id=invitation.pk)

    assert created is True
    assert membership.pk == former.pk
    assert membership.is_active
    assert membership.roles == [Role.VIEWER]


@pytest.mark.django_db
def test_invite_form_refuses_a_forged_role(organization):
    form = InviteForm({"email": INVITED, "roles": ["superuser"]}, organization=organization)

    assert not form.is_valid()
    assert form.errors["roles"] == ["superuser is not a role you can grant."]


@pytest.mark.django_db
def test_posting_a_forged_role_to_the_invitations_page_is_refused(
    client, owner, organization, django_capture_on_commit_callbacks
):
    client.force_login(owner)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("invitations", args=[organization.slug]),
                               {"email": INVITED, "roles": ["superuser"]})

    assert response.status_code == 400
    assert "superuser is not a role you can grant." in response.content.decode()
    assert not Invitation.objects.exists()
    assert mail.outbox == []


@pytest.mark.django_db
@pytest.mark.parametrize("roles", [["superuser"], [Role.DEVELOPER, "admin"], []])
def test_the_service_refuses_forged_or_missing_roles(owner, organization, roles):
    with pytest.raises(ValidationError) as raised:
        invite_member(actor=owner, organization=organization, email=INVITED,
                      roles=roles)

    assert list(raised.value.error_dict) == ["roles"]
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_the_service_refuses_a_workspace_of_another_organization(
    owner, organization, workspace_factory
):
    foreign = workspace_factory()

    with pytest.raises(ValidationError) as raised:
        invite_member(actor=owner, organization=organization, email=INVITED,
                      roles=[Role.DEVELOPER], workspaces=[foreign])

    assert list(raised.value.error_dict) == ["workspaces"]
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_the_owner_invites_through_the_invitations_page(
    client, owner, organization, django_capture_on_commit_callbacks
):
    client.force_login(owner)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("invitations", args=[organization.slug]),
                               {"email": INVITED, "roles": [Role.COMPLIANCE]})

    assert response.status_code == 302
    assert Invitation.objects.get().roles == [Role.COMPLIANCE]
    assert mail.outbox[0].to == [INVITED]


# --- workspace restriction ---------------------------------------------------------------


@pytest.mark.django_db
def test_an_invitation_limited_to_workspaces_shows_the_member_only_those(
    invite, workspace, workspace_factory, user_factory
):
    other = workspace_factory(organization=workspace.organization)
    invitation, _ = invite(workspaces=[other])
    invitee = user_factory(email=INVITED)

    membership = accept_invitation(actor=invitee, invitation_id=invitation.pk)

    assert membership.restricted
    assert list(Workspace.objects.visible_to(invitee)) == [other]
    assert invitee.has_perm("workspaces.access_workspace", other)
    assert not invitee.has_perm("workspaces.access_workspace", workspace)


@pytest.mark.django_db
def test_an_unlimited_invitation_shows_every_workspace(
    invite, workspace, workspace_factory, user_factory
):
    other = workspace_factory(organization=workspace.organization, name="Zeta")
    invitation, _ = invite()
    invitee = user_factory(email=INVITED)

    accept_invitation(actor=invitee, invitation_id=invitation.pk)

    assert list(Workspace.objects.visible_to(invitee)) == [workspace, other]


# --- audit ---------------------------------------------------------------------------


def _only_new_event(before: set[int]) -> AuditEvent:
    new = list(AuditEvent.objects.exclude(pk__in=before))
    assert len(new) == 1, [e.action for e in new]
    return new[0]


@pytest.mark.django_db
def test_invite_writes_one_audit_event(owner, organization):
    before = set(AuditEvent.objects.values_list("pk", flat=True))

    invitation, _ = invite_member(actor=owner, organization=organization,
                                  email=INVITED, roles=[Role.DEVELOPER])

    event = _only_new_event(before)
    assert (event.action, event.actor, event.organization) == (
        Action.MEMBER_INVITED, owner, organization)
    assert event.target_type == "workspaces.invitation"
    assert event.target_id == str(invitation.pk)
    assert event.details == {"email": INVITED, "roles": [Role.DEVELOPER], "workspaces": []}


@pytest.mark.django_db
@pytest.mark.parametrize(("service", "action"), [
    (resend_invitation, Action.INVITATION_RESENT),
    (revoke_invitation, Action.INVITATION_REVOKED),
])
def test_owner_actions_on_an_invitation_write_one_audit_event(
    invite, owner, organization, service, action
):
    invitation, _ = invite()
    before = set(AuditEvent.objects.values_list("pk", flat=True))

    service(actor=owner, organization=organization, invitation_id=invitation.pk)

    event = _only_new_event(before)
    assert (event.action, event.actor, event.organization) == (action, owner, organization)
    assert event.target_id == str(invitation.pk)
    assert event.details == {"email": INVITED}


@pytest.mark.django_db
@pytest.mark.parametrize(("service", "action"), [
    (accept_invitation, Action.INVITATION_ACCEPTED),
    (decline_invitation, Action.INVITATION_DECLINED),
])
def test_the_invitees_answer_writes_one_audit_event(
    invite, organization, user_factory, service, action
):
    invitation, _ = invite()
    invitee = user_factory(email=INVITED)
    before = set(AuditEvent.objects.values_list("pk", flat=True))

    service(actor=invitee, invitation_id=invitation.pk)

    event = _only_new_event(before)
    assert (event.action, event.actor, event.organization) == (action, invitee, organization)
    assert event.details["email"] == INVITED


@pytest.mark.django_db
def test_a_refused_acceptance_writes_no_audit_event(invite, user_factory):
    invitation, _ = invite()
    outsider = user_factory(email="someone.else@acme.test")
    before = set(AuditEvent.objects.values_list("pk", flat=True))

    with pytest.raises(InvitationError):
        accept_invitation(actor=outsider, invitation_id=invitation.pk)

    assert not AuditEvent.objects.exclude(pk__in=before).exists()


# --- signing up from the link ------------------------------------------------------------


@pytest.mark.django_db
def test_signing_up_from_the_link_joins_verified_and_signed_in(
    client, invite, organization, password, django_capture_on_commit_callbacks
):
    _, token = invite(roles=[Role.DEVELOPER, Role.BILLING_CONTACT])
    page = client.get(reverse("invitation", args=[token]))
    assert page.status_code == 200
    assert f"Create your account with <strong>{INVITED}</strong>" in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_signup"), {
            "full_name": "New Hire", "email": INVITED,
            "password1": password, "password2": password,
        })

    assert response.status_code == 302
    invitee = User.objects.get(email=INVITED)
    assert invitee.full_name == "New Hire"
    assert EmailAddress.objects.get(user=invitee).verified is True
    assert int(client.session["_auth_user_id"]) == invitee.pk
    membership = Membership.objects.get(user=invitee)
    assert membership.organization == organization
    assert membership.is_active
    assert membership.roles == [Role.DEVELOPER, Role.BILLING_CONTACT]
    assert [m.to for m in mail.outbox] == [[INVITED]]  # the invitation; no verification mail
    assert Invitation.objects.get().status == InvitationStatus.ACCEPTED
    assert client.get(reverse("organization_home", args=[organization.slug])).status_code == 200


@pytest.mark.django_db
def test_signing_up_from_the_link_with_another_address_needs_verification_and_does_not_join(
    client, invite, password, django_capture_on_commit_callbacks
):
    _, token = invite()
    client.get(reverse("invitation", args=[token]))

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_signup"), {
            "full_name": "Someone Else", "email": "someone.else@acme.test",
            "password1": password, "password2": password,
        })

    newcomer = EmailAddress.objects.get(email="someone.else@acme.test").user
    assert newcomer.email == "someone.else@acme.test"
    assert EmailAddress.objects.filter(user=newcomer, verified=True).count() == 0
    assert not Membership.objects.filter(user=newcomer).exists()
    assert Invitation.objects.get().status == InvitationStatus.PENDING
    assert mail.outbox[-1].to == ["someone.else@acme.test"]
    assert "/accounts/confirm-email/" in mail.outbox[-1].body


# --- concurrency -------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_acceptances_create_exactly_one_membership(
    owner, organization, user_factory
):
    invitation, _ = invite_member(actor=owner, organization=organization,
                                  email=INVITED, roles=[Role.DEVELOPER])
    invitee = user_factory(email=INVITED)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def accept():
        try:
            barrier.wait(timeout=10)
            accept_invitation(actor=invitee, invitation_id=invitation.pk)
            outcomes.append("joined")
        except InvitationError as error:
            outcomes.append(error.code)
        except Exception as error:  # anything else shows up in the assertion below
            outcomes.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=accept) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["joined", "used"]
    assert Membership.objects.filter(user=invitee, organization=organization).count() == 1
    assert AuditEvent.objects.filter(action=Action.INVITATION_ACCEPTED).count() == 1


@pytest.mark.django_db
def test_accepting_an_invitation_never_narrows_an_existing_members_access(
    invite, workspace, workspace_factory, membership_factory, user_factory
):
    # Invited with access to one workspace, then let in with all of them (e.g. through a
    # join request) before opening the invitation: the invitation adds, it never takes away.
    other = workspace_factory(organization=workspace.organization, name="Zeta")
    invitation, _ = invite(roles=[Role.BILLING_CONTACT], workspaces=[other])
    invitee = user_factory(email=INVITED)
    membership_factory(user=invitee, organization=workspace.organization,
                       roles=[Role.DEVELOPER])

    membership = accept_invitation(actor=invitee, invitation_id=invitation.pk)

    assert membership.roles == [Role.DEVELOPER, Role.BILLING_CONTACT]
    assert membership.restricted is False
    assert list(Workspace.objects.visible_to(invitee)) == [workspace, other]


@pytest.mark.django_db
def test_accepting_an_invitation_adds_its_workspaces_to_a_restricted_member(
    invite, owner, workspace, workspace_factory, membership_factory, user_factory
):
    second = workspace_factory(organization=workspace.organization, name="Yankee")
    third = workspace_factory(organization=workspace.organization, name="Zeta")
    invitation, _ = invite(workspaces=[third])
    invitee = user_factory(email=INVITED)
    existing = membership_factory(user=invitee, organization=workspace.organization,
                                  roles=[Role.VIEWER])
    restrict_member(actor=owner, organization=workspace.organization,
                    membership_id=existing.pk, workspaces=[second])

    membership = accept_invitation(actor=invitee, invitation_id=invitation.pk)

    assert membership.restricted is True
    assert list(Workspace.objects.visible_to(invitee)) == [second, third]
