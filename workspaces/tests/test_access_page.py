import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse


@pytest.mark.django_db
def test_access_page_requires_sign_in(client):
    response = client.get(reverse("access"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.django_db
def test_verified_user_without_organization_is_told_so(signed_in_client):
    response = signed_in_client.get(reverse("access"))

    assert response.status_code == 200
    assert "Not attached to an organization" in response.content.decode()
    assert 'class="stage-band stage-band--account"' in response.content.decode()


@pytest.mark.django_db
def test_access_page_queries_are_bounded(client, user_factory, django_assert_max_num_queries):
    user = user_factory()
    client.force_login(user)
    client.get(reverse("access"))  # the first request records the user session

    with django_assert_max_num_queries(10):
        response = client.get(reverse("access"))

    assert response.status_code == 200


@pytest.mark.django_db
def test_unverified_user_can_resend_the_verification_email(
    client, user_factory, django_capture_on_commit_callbacks
):
    user = user_factory(verified=False)
    client.force_login(user)
    assert "Verify your email" in client.get(reverse("access")).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("access_resend_verification"))

    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [user.email]
    assert "/accounts/confirm-email/" in mail.outbox[0].body


@pytest.mark.django_db
def test_resend_is_refused_by_get(signed_in_client):
    assert signed_in_client.get(reverse("access_resend_verification")).status_code == 405


@pytest.mark.django_db
def test_resend_for_a_verified_address_sends_nothing(
    signed_in_client, user, django_capture_on_commit_callbacks
):
    assert EmailAddress.objects.get(user=user).verified

    with django_capture_on_commit_callbacks(execute=True):
        signed_in_client.post(reverse("access_resend_verification"))

    assert mail.outbox == []


@pytest.mark.django_db
def test_a_removed_member_invited_again_sees_the_invitation(
    client, workspace, owner, membership_factory
):
    from workspaces.roles import Role
    from workspaces.services.invitations import invite_member
    from workspaces.services.members import remove_member

    member = membership_factory(organization=workspace.organization)
    remove_member(actor=owner, organization=workspace.organization,
                  membership_id=member.pk)
    invite_member(actor=owner, organization=workspace.organization,
                  email=member.user.email, roles=[Role.VIEWER])
    client.force_login(member.user)

    text = client.get(reverse("access")).content.decode()

    assert f"Invited to {workspace.organization.name} as Viewer" in text
