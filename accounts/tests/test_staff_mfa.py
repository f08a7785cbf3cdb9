"""Platform staff reach the admin only with a second factor."""

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.urls import reverse


@pytest.mark.django_db
@pytest.mark.parametrize("superuser", [False, True])
def test_staff_without_a_second_factor_are_sent_to_set_one_up(client, user_factory, superuser):
    staff = user_factory(is_staff=True, is_superuser=superuser)
    client.force_login(staff)

    response = client.get(reverse("admin:index"), follow=True)

    assert response.redirect_chain == [(reverse("mfa_index"), 302)]
    assert "Platform staff need two-factor authentication" in response.content.decode()


@pytest.mark.django_db
def test_recovery_codes_alone_do_not_open_the_admin(client, user_factory):
    staff = user_factory(is_staff=True, is_superuser=True)
    RecoveryCodes.activate(staff)
    assert Authenticator.objects.filter(user=staff).count() == 1
    client.force_login(staff)

    response = client.get(reverse("admin:auth_group_changelist"))

    assert response.url == reverse("mfa_index")


@pytest.mark.django_db
def test_staff_with_an_authenticator_app_reach_the_admin(client, user_factory):
    staff = user_factory(is_staff=True, is_superuser=True, mfa=True)
    client.force_login(staff)

    response = client.get(reverse("admin:index"))

    assert response.status_code == 200
    assert "Site administration" in response.content.decode()
