import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from audit.models import Action, AuditEvent
from workspaces.models import Membership, Workspace, WorkspaceUserObjectPermission
from workspaces.roles import Role
from workspaces.services.members import (
    change_roles,
    leave_organization,
    remove_member,
    restrict_member,
)

LAST_OWNER = "This is the organization's last Owner. Make another member an Owner first."


@pytest.fixture
def organization(workspace):
    return workspace.organization


@pytest.fixture
def owner_membership(owner, organization):
    return Membership.objects.get(user=owner, organization=organization)


@pytest.fixture
def developer(organization, membership_factory):
    return membership_factory(organization=organization, roles=[Role.DEVELOPER])


@pytest.fixture
def second_owner(organization, membership_factory):
    return membership_factory(organization=organization, roles=[Role.OWNER])


def _events(action, organization):
    return list(AuditEvent.objects.filter(action=action, organization=organization))


def _roles_of(membership) -> list[str]:
    membership.refresh_from_db()
    return membership.roles


# --- roles -----------------------------------------------------------------------


@pytest.mark.django_db
def test_change_roles_replaces_the_members_roles(owner, organization, developer):
    change_roles(actor=owner, organization=organization, membership_id=developer.pk,
                 roles=[Role.TECHNICAL_LEAD, Role.SECURITY_OWNER])

    assert _roles_of(developer) == [Role.TECHNICAL_LEAD, Role.SECURITY_OWNER]
    developer.refresh_from_db()
    assert developer.can("production.manage")
    assert developer.can("keys.policy")
    assert not developer.can("members.manage")


@pytest.mark.django_db
def test_change_roles_writes_one_audit_event_with_before_and_after(
    owner, organization, developer
):
    change_roles(actor=owner, organization=organization, membership_id=developer.pk,
                 roles=[Role.VIEWER])

    [event] = _events(Action.ROLES_CHANGED, organization)
    assert event.actor == owner
    assert event.target_id == str(developer.pk)
    assert event.details == {"email": developer.user.email, "from": [Role.DEVELOPER],
                             "to": [Role.VIEWER]}


@pytest.mark.django_db
@pytest.mark.parametrize("roles", [["superuser"], []])
def test_change_roles_refuses_forged_or_missing_roles(owner, organization, developer, roles):
    with pytest.raises(ValidationError) as raised:
        change_roles(actor=owner, organization=organization,
                     membership_id=developer.pk, roles=roles)

    assert list(raised.value.error_dict) == ["roles"]
    assert _roles_of(developer) == [Role.DEVELOPER]
    assert _events(Action.ROLES_CHANGED, organization) == []


@pytest.mark.django_db
def test_change_roles_cannot_reach_a_member_of_another_organization(
    owner, organization, membership_factory
):
    stranger = membership_factory(roles=[Role.DEVELOPER])

    with pytest.raises(ValidationError, match="not a member any more"):
        change_roles(actor=owner, organization=organization,
                     membership_id=stranger.pk, roles=[Role.OWNER])

    assert _roles_of(stranger) == [Role.DEVELOPER]


@pytest.mark.django_db
def test_the_member_page_changes_roles_by_post(client, owner, organization, developer):
    client.force_login(owner)

    response = client.post(reverse("member_detail", args=[organization.slug, developer.pk]),
                           {"action": "roles", "roles-roles": [Role.BILLING_CONTACT]})

    assert response.status_code == 302
    assert _roles_of(developer) == [Role.BILLING_CONTACT]


# --- the last Owner ------------------------------------------------------------------


@pytest.mark.django_db
def test_the_last_owner_cannot_be_demoted(owner, organization, owner_membership):
    with pytest.raises(ValidationError) as raised:
        change_roles(actor=owner, organization=organization,
                     membership_id=owner_membership.pk, roles=[Role.DEVELOPER])

    assert raised.value.messages == [LAST_OWNER]
    assert _roles_of(owner_membership) == [Role.OWNER]


@pytest.mark.django_db
def test_the_last_owner_may_change_other_roles_while_keeping_owner(
    owner, organization, owner_membership
):
    change_roles(actor=owner, organization=organization,
                 membership_id=owner_membership.pk,
                 roles=[Role.OWNER, Role.BILLING_CONTACT])

    assert _roles_of(owner_membership) == [Role.OWNER, Role.BILLING_CONTACT]


@pytest.mark.django_db
def test_the_last_owner_cannot_be_removed(owner, organization, owner_membership):
    with pytest.raises(ValidationError) as raised:
        remove_member(actor=owner, organization=organization,
                      membership_id=owner_membership.pk)

    assert raised.value.messages == [LAST_OWNER]
    owner_membership.refresh_from_db()
    assert owner_membership.is_active


@pytest.mark.django_db
def test_the_last_owner_cannot_leave(owner, organization, owner_membership):
    with pytest.raises(ValidationError) as raised:
        leave_organization(actor=owner, organization=organization)

    assert raised.value.messages == [LAST_OWNER]
    owner_membership.refresh_from_db()
    assert owner_membership.is_active
    assert _events(Action.MEMBER_LEFT, organization) == []


@pytest.mark.django_db
def test_a_removed_owner_does_not_count_as_the_remaining_owner(
    owner, organization, owner_membership, membership_factory
):
    membership_factory(organization=organization, roles=[Role.OWNER], is_active=False)

    with pytest.raises(ValidationError, match="last Owner"):
        leave_organization(actor=owner, organization=organization)


@pytest.mark.django_db
def test_an_owner_of_another_organization_does_not_count(
    owner, organization, owner_membership, membership_factory
):
    membership_factory(user=owner, roles=[Role.OWNER])  # Owner elsewhere

    with pytest.raises(ValidationError, match="last Owner"):
        change_roles(actor=owner, organization=organization,
                     membership_id=owner_membership.pk, roles=[Role.VIEWER])


@pytest.mark.django_db
def test_with_a_second_owner_the_first_can_be_demoted(
    owner, organization, owner_membership, second_owner
):
    change_roles(actor=second_owner.user, organization=organization,
                 membership_id=owner_membership.pk, roles=[Role.DEVELOPER])

    assert _roles_of(owner_membership) == [Role.DEVELOPER]
    assert list(Membership.objects.for_organization(organization).with_role(Role.OWNER)) == [
        second_owner]


@pytest.mark.django_db
def test_with_a_second_owner_the_first_can_be_removed(
    owner, organization, owner_membership, second_owner
):
    remove_member(actor=second_owner.user, organization=organization,
                  membership_id=owner_membership.pk)

    owner_membership.refresh_from_db()
    assert owner_membership.is_active is False


@pytest.mark.django_db
def test_with_a_second_owner_the_first_can_leave(
    owner, organization, owner_membership, second_owner
):
    leave_organization(actor=owner, organization=organization)

    owner_membership.refresh_from_db()
    assert owner_membership.is_active is False


@pytest.mark.django_db(transaction=True)
def test_two_owners_demoting_each_other_at_once_leave_one_owner(
    owner, organization, owner_membership, second_owner
):
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def demote(actor, membership):
        try:
            barrier.wait(timeout=10)
            change_roles(actor=actor, organization=organization,
                         membership_id=membership.pk, roles=[Role.DEVELOPER])
            outcomes.append("demoted")
        except ValidationError as error:
            outcomes.append(" ".join(error.messages))
        except Exception as error:  # anything else shows up in the assertion below
            outcomes.append(repr(error))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=demote, args=(owner, second_owner)),
        threading.Thread(target=demote, args=(second_owner.user, owner_membership)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == sorted(["demoted", LAST_OWNER])
    owners = Membership.objects.for_organization(organization).with_role(Role.OWNER)
    assert owners.count() == 1
    assert AuditEvent.objects.filter(action=Action.ROLES_CHANGED).count() == 1


# --- workspace access ---------------------------------------------------------------


@pytest.mark.django_db
def test_restricting_a_member_grants_only_the_chosen_workspaces(
    owner, organization, workspace, workspace_factory, developer
):
    other = workspace_factory(organization=organization, name="Zeta")
    assert list(Workspace.objects.visible_to(developer.user)) == [workspace, other]

    restrict_member(actor=owner, organization=organization,
                    membership_id=developer.pk, workspaces=[other])

    developer.refresh_from_db()
    assert developer.restricted is True
    assert list(Workspace.objects.visible_to(developer.user)) == [other]
    assert developer.user.has_perm("workspaces.access_workspace", other)
    assert not developer.user.has_perm("workspaces.access_workspace", workspace)


@pytest.mark.django_db
def test_restricting_again_replaces_the_grants(
    owner, organization, workspace, workspace_factory, developer
):
    other = workspace_factory(organization=organization, name="Zeta")
    restrict_member(actor=owner, organization=organization,
                    membership_id=developer.pk, workspaces=[other])

    restrict_member(actor=owner, organization=organization,
                    membership_id=developer.pk, workspaces=[workspace])

    assert list(Workspace.objects.visible_to(developer.user)) == [workspace]
    assert WorkspaceUserObjectPermission.objects.filter(user=developer.user).count() == 1


@pytest.mark.django_db
def test_restricting_to_none_gives_back_every_workspace(
    owner, organization, workspace, workspace_factory, developer
):
    other = workspace_factory(organization=organization, name="Zeta")
    restrict_member(actor=owner, organization=organization,
                    membership_id=developer.pk, workspaces=[other])

    restrict_member(actor=owner, organization=organization,
                    membership_id=developer.pk, workspaces=None)

    developer.refresh_from_db()
    assert developer.restricted is False
    assert list(Workspace.objects.visible_to(developer.user)) == [workspace, other]
    assert not WorkspaceUserObjectPermission.objects.filter(user=developer.user).exists()
    later = workspace_factory(organization=organization, name="Zulu")
    assert later in Workspace.objects.visible_to(developer.user)  # future ones too


@pytest.mark.django_db
def test_a_restriction_applies_only_to_its_own_organization(
    owner, organization, workspace, developer, workspace_factory, membership_factory
):
    elsewhere = workspace_factory()
    membership_factory(user=developer.user, organization=elsewhere.organization)

    restrict_member(actor=owner, organization=organization,
                    membership_id=developer.pk, workspaces=[workspace])

    assert set(Workspace.objects.visible_to(developer.user)) == {workspace, elsewhere}


@pytest.mark.django_db
def test_restricting_to_a_workspace_of_another_organization_is_refused(
    owner, organization, workspace, workspace_factory, developer
):
    restrict_member(actor=owner, organization=organization,
                    membership_id=developer.pk, workspaces=[workspace])
    foreign = workspace_factory()

    with pytest.raises(ValidationError) as raised:
        restrict_member(actor=owner, organization=organization,
                        membership_id=developer.pk, workspaces=[foreign])

    assert list(raised.value.error_dict) == ["workspaces"]
    assert list(Workspace.objects.visible_to(developer.user)) == [workspace]  # unchanged


@pytest.mark.django_db
def test_restrict_member_writes_one_audit_event(
    owner, organization, workspace, developer
):
    restrict_member(actor=owner, organization=organization,
                    membership_id=developer.pk, workspaces=[workspace])
    restrict_member(actor=owner, organization=organization,
                    membership_id=developer.pk, workspaces=None)

    first, second = reversed(_events(Action.MEMBER_RESTRICTED, organization))
    assert first.actor == owner
    assert first.details == {"email": developer.user.email, "workspaces": [workspace.slug]}
    assert second.details == {"email": developer.user.email, "workspaces": None}


@pytest.mark.django_db
def test_a_restricted_member_gets_404_for_a_workspace_not_granted(
    client, owner, organization, workspace, workspace_factory, developer
):
    other = workspace_factory(organization=organization, name="Zeta")
    restrict_member(actor=owner, organization=organization,
                    membership_id=developer.pk, workspaces=[other])
    client.force_login(developer.user)

    hidden = client.get(reverse("workspace_overview", args=[organization.slug, workspace.slug]))
    granted = client.get(reverse("workspace_overview", args=[organization.slug, other.slug]))

    assert hidden.status_code == 404
    assert granted.status_code == 200


# --- removing and leaving ----------------------------------------------------------------


@pytest.mark.django_db
def test_remove_member_deactivates_the_membership_and_its_grants(
    owner, organization, workspace, developer
):
    restrict_member(actor=owner, organization=organization,
                    membership_id=developer.pk, workspaces=[workspace])

    remove_member(actor=owner, organization=organization, membership_id=developer.pk)

    developer.refresh_from_db()
    assert developer.is_active is False
    assert not Membership.objects.for_organization(organization).filter(
        pk=developer.pk).exists()
    assert list(Workspace.objects.visible_to(developer.user)) == []
    assert not WorkspaceUserObjectPermission.objects.filter(user=developer.user).exists()


@pytest.mark.django_db
def test_remove_member_writes_one_audit_event(owner, organization, developer):
    remove_member(actor=owner, organization=organization, membership_id=developer.pk)

    [event] = _events(Action.MEMBER_REMOVED, organization)
    assert event.actor == owner
    assert event.target_type == "workspaces.membership"
    assert event.target_id == str(developer.pk)
    assert event.details == {"email": developer.user.email, "roles": [Role.DEVELOPER]}


@pytest.mark.django_db
def test_a_member_cannot_be_removed_twice(owner, organization, developer):
    remove_member(actor=owner, organization=organization, membership_id=developer.pk)

    with pytest.raises(ValidationError, match="not a member any more"):
        remove_member(actor=owner, organization=organization,
                      membership_id=developer.pk)

    assert len(_events(Action.MEMBER_REMOVED, organization)) == 1


@pytest.mark.django_db
def test_leave_organization_deactivates_ones_own_membership(organization, developer):
    leave_organization(actor=developer.user, organization=organization)

    developer.refresh_from_db()
    assert developer.is_active is False
    assert list(Workspace.objects.visible_to(developer.user)) == []


@pytest.mark.django_db
def test_leave_organization_writes_one_audit_event(organization, developer):
    leave_organization(actor=developer.user, organization=organization)

    [event] = _events(Action.MEMBER_LEFT, organization)
    assert event.actor == developer.user
    assert event.target_id == str(developer.pk)


@pytest.mark.django_db
def test_a_non_member_cannot_leave(organization, user):
    with pytest.raises(ValidationError, match="not a member of this organization"):
        leave_organization(actor=user, organization=organization)

    assert _events(Action.MEMBER_LEFT, organization) == []


ORGANIZATION_PAGES = [
    ("organization_home", []),
    ("workspace_overview", ["ws"]),
    ("members", []),
    ("member_detail", ["member"]),
    ("organization_leave", []),
    ("invitations", []),
    ("join_requests", []),
    ("domains", []),
    ("billing", []),
    ("workspace_create", []),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("url_name", "extra"), ORGANIZATION_PAGES,
                         ids=[name for name, _ in ORGANIZATION_PAGES])
def test_a_removed_member_no_longer_resolves_any_organization_page(
    client, organization, workspace, second_owner, owner_membership, url_name, extra
):
    # A removed Owner: before removal every one of these pages answered 200.
    client.force_login(owner_membership.user)
    args = [organization.slug] + [
        {"ws": workspace.slug, "member": second_owner.pk}[a] for a in extra]
    url = reverse(url_name, args=args)
    assert client.get(url).status_code == 200

    remove_member(actor=second_owner.user, organization=organization,
                  membership_id=owner_membership.pk)

    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404


@pytest.mark.django_db
def test_a_removed_member_cannot_act_through_the_remove_url(
    client, organization, second_owner, owner_membership, developer
):
    client.force_login(owner_membership.user)
    remove_member(actor=second_owner.user, organization=organization,
                  membership_id=owner_membership.pk)

    response = client.post(reverse("member_remove", args=[organization.slug, developer.pk]))

    assert response.status_code == 404
    developer.refresh_from_db()
    assert developer.is_active
