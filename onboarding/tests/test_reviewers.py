import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from onboarding.reviewers import GROUP, ensure_reviewers_group


@pytest.mark.django_db
def test_platform_reviewers_may_only_view_and_decide_reviews():
    group = ensure_reviewers_group()

    assert sorted(group.permissions.values_list("codename", flat=True)) == [
        "change_reviewstage", "change_sandboxrequest", "view_reviewstage",
        "view_sandboxrequest"]
    assert ensure_reviewers_group().pk == group.pk == Group.objects.get(name=GROUP).pk


@pytest.mark.django_db
def test_a_reviewer_sees_the_queue_and_nothing_else_in_the_admin(client, user_factory):
    reviewer = user_factory(is_staff=True, mfa=True)
    reviewer.groups.add(ensure_reviewers_group())
    client.force_login(reviewer)

    index = client.get(reverse("admin:index")).content.decode()

    assert "Waiting for platform reviewers" in index
    assert "0 sandbox requests" in index
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 403
    assert client.get(reverse("admin:onboarding_sandboxrequest_changelist")).status_code == 200


@pytest.mark.django_db
def test_admin_sign_in_goes_through_allauth_and_its_rate_limits(client):
    response = client.get(reverse("admin:login"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
