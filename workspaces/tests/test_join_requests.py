import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from audit.models import Action, AuditEvent
from workspaces.models import (
    JoinRequest,
    JoinRequestStatus,
    Membership,
    Workspace,
)
from workspaces.roles import Role
from workspaces.services.join_requests import (
    approve_join_request,
    cancel_join_request,
    decline_join_request,
    joinable_organizations,
    request_to_join,
)

NOT_JOINABLE = ("You can ask to join only an organization that verified the domain of your "
                "email address.")


@pytest.fixture
def dana(user_factory):
    """Owner of Acme, signed up with her company address."""
    return user_factory(email="dana@acme.test", full_name="Dana Lee")


@pytest.fixture
def acme(dana, organization_factory, membership_factory):
    organization = organization_factory(name="Acme", slug="acme", created_by=dana)
    membership_factory(user=dana, organization=organization, roles=[Role.OWNER])
    return organization


@pytest.fixture
def acme_claimed(acme, dana, verify_domain):
    verify_domain(actor=dana, organization=acme, domain="acme.test")
    return acme


@pytest.fixture
def sam(user_factory):
    """A colleague of Dana's with a verified acme.test address and no organization."""
    return user_factory(email="sam@acme.test", full_name="Sam Poe")


@pytest.fixture
def ask(sam, acme_claimed, django_capture_on_commit_callbacks):
    """Sam asks to join Acme; the Owners' notification is delivered."""

    def send(message=""):
        with django_capture_on_commit_callbacks(execute=True):
            return request_to_join(actor=sam, organization_id=acme_claimed.pk,
                                             message=message)

    return send


def _error_on(field, call) -> list[str]:
    with pytest.raises(ValidationError) as raised:
        call()
    return raised.value.message_dict[field]


# --- asking to join ----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_colleague_asks_to_join_the_organization_that_claimed_his_domain(
    ask, sam, acme_claimed, dana
):
    join_request = ask("I build the payouts integration.")

    assert join_request.organization == acme_claimed
    assert join_request.user == sam
    assert join_request.status == JoinRequestStatus.PENDING
    assert join_request.message == "I build the payouts integration."
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [dana.email]
    assert mail.outbox[0].subject.endswith("Sam Poe asks to join Acme")
    assert "I build the payouts integration." in mail.outbox[0].body
    [event] = AuditEvent.objects.filter(action=Action.JOIN_REQUESTED)
    assert (event.actor, event.organization) == (sam, acme_claimed)


@pytest.mark.django_db
def test_nobody_joins_by_asking(ask, sam, acme_claimed, workspace_factory):
    workspace_factory(organization=acme_claimed)

    ask()

    assert not Membership.objects.filter(user=sam).exists()
    assert list(Workspace.objects.visible_to(sam)) == []


@pytest.mark.django_db
def test_asking_an_organization_that_did_not_claim_the_domain_is_refused(sam, acme):
    with pytest.raises(ValidationError) as raised:
        request_to_join(actor=sam, organization_id=acme.pk)

    assert raised.value.messages == [NOT_JOINABLE]
    assert not JoinRequest.objects.exists()


@pytest.mark.django_db
def test_asking_with_an_address_of_another_domain_is_refused(acme_claimed, user_factory):
    outsider = user_factory(email="eve@globex.test")

    with pytest.raises(ValidationError) as raised:
        request_to_join(actor=outsider, organization_id=acme_claimed.pk)

    assert raised.value.messages == [NOT_JOINABLE]
    assert not JoinRequest.objects.exists()


@pytest.mark.django_db
def test_asking_with_an_unverified_address_of_the_domain_is_refused(acme_claimed, user_factory):
    unverified = user_factory(email="mallory@acme.test", verified=False)

    with pytest.raises(ValidationError) as raised:
        request_to_join(actor=unverified, organization_id=acme_claimed.pk)

    assert raised.value.messages == [NOT_JOINABLE]
    assert not JoinRequest.objects.exists()


@pytest.mark.django_db
def test_a_verified_secondary_address_of_the_domain_is_enough(acme_claimed, user_factory):
    contractor = user_factory(email="kim@example.org")
    EmailAddress.objects.create(user=contractor, email="kim@acme.test", verified=True)

    join_request = request_to_join(actor=contractor, organization_id=acme_claimed.pk)

    assert join_request.status == JoinRequestStatus.PENDING


@pytest.mark.django_db
def test_a_member_cannot_ask_to_join_again(acme_claimed, sam, membership_factory):
    membership_factory(user=sam, organization=acme_claimed, roles=[Role.VIEWER])

    with pytest.raises(ValidationError) as raised:
        request_to_join(actor=sam, organization_id=acme_claimed.pk)

    assert raised.value.messages == [NOT_JOINABLE]


@pytest.mark.django_db
def test_a_former_member_may_ask_to_join_again(acme_claimed, sam, membership_factory):
    membership_factory(user=sam, organization=acme_claimed, roles=[Role.VIEWER],
                       is_active=False)

    join_request = request_to_join(actor=sam, organization_id=acme_claimed.pk)

    assert join_request.status == JoinRequestStatus.PENDING
    assert list(joinable_organizations(sam)) == [acme_claimed]


@pytest.mark.django_db
def test_asking_twice_keeps_one_pending_request(ask, sam):
    first = ask()
    second = ask("again")

    assert second.pk == first.pk
    assert JoinRequest.objects.filter(user=sam).count() == 1
    assert len(mail.outbox) == 1
    assert AuditEvent.objects.filter(action=Action.JOIN_REQUESTED).count() == 1


# --- cancelling -----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_requester_cancels_his_request(ask, sam, acme_claimed):
    join_request = ask()

    cancel_join_request(actor=sam, join_request_id=join_request.pk)

    join_request.refresh_from_db()
    assert join_request.status == JoinRequestStatus.CANCELLED
    assert join_request.decided_by == sam
    [event] = AuditEvent.objects.filter(action=Action.JOIN_REQUEST_CANCELLED)
    assert (event.actor, event.organization) == (sam, acme_claimed)


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["owner", "colleague"])
def test_nobody_else_can_cancel_a_request(ask, dana, user_factory, who):
    join_request = ask()
    actor = dana if who == "owner" else user_factory(email="pat@acme.test")

    with pytest.raises(ValidationError, match="no longer waiting"):
        cancel_join_request(actor=actor, join_request_id=join_request.pk)

    join_request.refresh_from_db()
    assert join_request.status == JoinRequestStatus.PENDING


@pytest.mark.django_db
def test_a_cancelled_request_makes_room_for_a_new_one(ask, sam):
    first = ask()
    cancel_join_request(actor=sam, join_request_id=first.pk)

    second = ask()

    assert second.pk != first.pk
    assert second.status == JoinRequestStatus.PENDING


# --- approving and declining -------------------------------------------------------------


@pytest.mark.django_db
def test_the_owner_approves_with_the_roles_she_chooses(
    ask, sam, dana, acme_claimed, django_capture_on_commit_callbacks
):
    join_request = ask()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        membership = approve_join_request(
            actor=dana, organization=acme_claimed, join_request_id=join_request.pk,
            roles=[Role.TECHNICAL_LEAD, Role.BILLING_CONTACT])

    assert membership.user == sam
    assert membership.organization == acme_claimed
    assert membership.is_active
    assert membership.roles == [Role.TECHNICAL_LEAD, Role.BILLING_CONTACT]
    join_request.refresh_from_db()
    assert join_request.status == JoinRequestStatus.APPROVED
    assert join_request.decided_by == dana
    assert [m.to for m in mail.outbox] == [[sam.email]]
    assert mail.outbox[0].subject.endswith("Your request to join Acme was approved")
    assert "You are now a member of Acme." in mail.outbox[0].body
    [event] = AuditEvent.objects.filter(action=Action.JOIN_REQUEST_APPROVED)
    assert (event.actor, event.organization) == (dana, acme_claimed)
    assert event.details == {"email": sam.email,
                             "roles": [Role.TECHNICAL_LEAD, Role.BILLING_CONTACT]}


@pytest.mark.django_db
@pytest.mark.parametrize("roles", [["superuser"], []])
def test_approving_with_forged_or_missing_roles_is_refused(ask, sam, dana, acme_claimed, roles):
    join_request = ask()

    with pytest.raises(ValidationError) as raised:
        approve_join_request(actor=dana, organization=acme_claimed,
                             join_request_id=join_request.pk, roles=roles)

    assert list(raised.value.error_dict) == ["roles"]
    assert not Membership.objects.filter(user=sam).exists()


@pytest.mark.django_db
def test_a_request_is_decided_only_once(ask, sam, dana, acme_claimed):
    join_request = ask()
    approve_join_request(actor=dana, organization=acme_claimed,
                         join_request_id=join_request.pk, roles=[Role.VIEWER])

    with pytest.raises(ValidationError, match="already approved"):
        decline_join_request(actor=dana, organization=acme_claimed,
                             join_request_id=join_request.pk, reason="Changed mind")

    assert Membership.objects.get(user=sam).is_active


@pytest.mark.django_db
def test_a_request_to_another_organization_cannot_be_decided(
    ask, sam, organization_factory, membership_factory
):
    join_request = ask()
    other = organization_factory()
    membership_factory(user=other.created_by, organization=other, roles=[Role.OWNER])

    with pytest.raises(ValidationError, match="does not exist"):
        approve_join_request(actor=other.created_by, organization=other,
                             join_request_id=join_request.pk, roles=[Role.OWNER])

    assert not Membership.objects.filter(user=sam).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("reason", ["", "   "])
def test_declining_needs_a_reason(ask, dana, acme_claimed, reason):
    join_request = ask()

    errors = _error_on("reason", lambda: decline_join_request(
        actor=dana, organization=acme_claimed, join_request_id=join_request.pk,
        reason=reason))

    assert errors == ["Say why, so the person knows what to do next."]
    join_request.refresh_from_db()
    assert join_request.status == JoinRequestStatus.PENDING


@pytest.mark.django_db
def test_the_owner_declines_with_a_reason_the_requester_is_told(
    ask, sam, dana, acme_claimed, django_capture_on_commit_callbacks
):
    join_request = ask()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        decline_join_request(actor=dana, organization=acme_claimed,
                             join_request_id=join_request.pk,
                             reason="  Please use the contractor workspace.  ")

    join_request.refresh_from_db()
    assert join_request.status == JoinRequestStatus.DECLINED
    assert join_request.reason == "Please use the contractor workspace."
    assert join_request.decided_by == dana
    assert not Membership.objects.filter(user=sam).exists()
    assert [m.to for m in mail.outbox] == [[sam.email]]
    assert mail.outbox[0].subject.endswith("Your request to join Acme was declined")
    assert "Reason: Please use the contractor workspace." in mail.outbox[0].body
    [event] = AuditEvent.objects.filter(action=Action.JOIN_REQUEST_DECLINED)
    assert (event.actor, event.organization) == (dana, acme_claimed)
    assert event.details == {"email": sam.email,
                             "reason": "Please use the contractor workspace."}


@pytest.mark.django_db
def test_the_owner_approves_through_the_join_requests_page(
    client, ask, sam, dana, acme_claimed
):
    join_request = ask()
    client.force_login(dana)

    response = client.post(
        reverse("join_request_approve", args=[acme_claimed.slug, join_request.pk]),
        {"roles": [Role.DEVELOPER]})

    assert response.status_code == 302
    assert Membership.objects.get(user=sam).roles == [Role.DEVELOPER]


@pytest.mark.django_db
def test_a_developer_cannot_approve_requests(client, ask, sam, acme_claimed, member_client):
    join_request = ask()
    client, _ = member_client(acme_claimed, Role.DEVELOPER)

    response = client.post(
        reverse("join_request_approve", args=[acme_claimed.slug, join_request.pk]),
        {"roles": [Role.OWNER]})

    assert response.status_code == 403
    assert not Membership.objects.filter(user=sam).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["organization_home", "workspace_overview", "usage"])
def test_an_owner_sees_the_waiting_requests_in_the_navigation_of_every_scoped_page(
    client, ask, dana, acme_claimed, workspace_factory, page
):
    # given a waiting request and a workspace of Acme
    ask()
    workspace = workspace_factory(organization=acme_claimed, created_by=dana)
    args = [acme_claimed.slug] if page == "organization_home" else [acme_claimed.slug,
                                                                    workspace.slug]
    client.force_login(dana)

    # when the Owner opens an organization or workspace page
    text = client.get(reverse(page, args=args)).content.decode()

    # then the navigation counts it
    assert 'aria-label="1 waiting">1</span>' in text
