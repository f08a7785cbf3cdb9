"""Every admin change to a person is an audit event."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from audit.models import Action, AuditEvent


@pytest.fixture
def root(client, user_factory):
    root = user_factory(is_staff=True, is_superuser=True, mfa=True, email="root@platform.test")
    client.force_login(root)
    return root


def _form(person, **changes) -> dict:
    form = {"email": person.email, "full_name": person.full_name, "is_active": "on",
            "last_login_0": "", "last_login_1": "",
            "date_joined_0": person.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": person.date_joined.strftime("%H:%M:%S")}
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


@pytest.mark.django_db
def test_making_someone_staff_and_adding_a_group_is_audited(client, root, user):
    reviewers = Group.objects.get(name="Platform reviewers")

    response = client.post(reverse("admin:accounts_user_change", args=[user.pk]),
                           _form(user, is_staff="on", groups=[reviewers.pk]))

    assert response.status_code == 302
    [event] = AuditEvent.objects.filter(action=Action.USER_CHANGED_BY_STAFF)
    assert (event.actor, event.target_id) == (root, str(user.pk))
    assert {"Is staff", "Groups"} <= set(event.details["changed"])
    assert (event.details["is_staff"], event.details["groups"]) == (True, ["Platform reviewers"])


@pytest.mark.django_db
def test_setting_a_password_in_the_admin_is_audited(client, root, user):
    client.post(reverse("admin:auth_user_password_change", args=[user.pk]),
                {"password1": "an-admin-set-pass-42", "password2": "an-admin-set-pass-42",
                 "usable_password": "true"})

    [event] = AuditEvent.objects.filter(action=Action.USER_CHANGED_BY_STAFF)
    assert event.actor == root
    assert any("assword" in field for field in event.details["changed"])
