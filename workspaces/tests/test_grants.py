"""Per-workspace roles through django-guardian, checked through the tenancy resolver."""

import pytest
from django.http import Http404

from audit.models import Action, AuditEvent
from workspaces.grants import grant
from workspaces.models import Workspace
from workspaces.roles import ALL_CAPABILITIES, Role
from workspaces.scoping import resolve_workspace, workspace_roles_of
from workspaces.services.members import set_workspace_roles
from workspaces.tests.test_roles import MATRIX

# DESIGN §3's matrix, written out by hand in test_roles.py.
DESIGN_MATRIX = MATRIX


@pytest.fixture
def acme(workspace_factory, organization_factory, membership_factory, user_factory):
    owner = user_factory()
    organization = organization_factory(name="Acme", slug="acme", created_by=owner)
    membership_factory(user=owner, organization=organization, roles=[Role.OWNER])
    workspace_factory(organization=organization, name="Checkout", slug="checkout",
                      created_by=owner)
    workspace_factory(organization=organization, name="Payouts", slug="payouts",
                      created_by=owner)
    return organization


def _can(user, ws_slug, capability):
    _, membership = resolve_workspace(user, "acme", ws_slug)
    return membership.can(capability)


@pytest.mark.django_db
@pytest.mark.parametrize("capability", sorted(ALL_CAPABILITIES))
@pytest.mark.parametrize("role", [r for r in Role if r != Role.OWNER])
def test_a_role_granted_in_one_workspace_holds_there_and_nowhere_else(
    acme, membership_factory, role, capability
):
    """A contractor restricted to Checkout, where they hold one role."""
    member = membership_factory(organization=acme, roles=[Role.VIEWER], restricted=True)
    grant(member.user, Workspace.objects.get(slug="checkout"), [role])

    assert _can(member.user, "checkout", capability) is (capability in DESIGN_MATRIX[role])
    with pytest.raises(Http404):
        resolve_workspace(member.user, "acme", "payouts")


@pytest.mark.django_db
@pytest.mark.parametrize("capability", sorted(ALL_CAPABILITIES))
@pytest.mark.parametrize("role", [r for r in Role if r != Role.OWNER])
def test_elsewhere_an_unrestricted_member_keeps_the_organization_roles(
    acme, membership_factory, role, capability
):
    """Viewer in the organization, another role in Checkout."""
    member = membership_factory(organization=acme, roles=[Role.VIEWER])
    grant(member.user, Workspace.objects.get(slug="checkout"), [role])

    assert _can(member.user, "checkout", capability) is (capability in DESIGN_MATRIX[role])
    assert _can(member.user, "payouts", capability) is (
        capability in DESIGN_MATRIX[Role.VIEWER])


@pytest.mark.django_db
@pytest.mark.parametrize("capability", sorted(ALL_CAPABILITIES))
def test_an_owner_holds_every_owner_capability_in_every_workspace(acme, capability):
    for ws_slug in ["checkout", "payouts"]:
        assert _can(acme.created_by, ws_slug, capability) is (
            capability in DESIGN_MATRIX[Role.OWNER])


@pytest.mark.django_db
def test_visible_to_and_the_prefetched_checker_agree_with_the_resolver(
    acme, membership_factory, django_assert_num_queries
):
    member = membership_factory(organization=acme, roles=[Role.VIEWER], restricted=True)
    checkout = Workspace.objects.get(slug="checkout")
    grant(member.user, checkout, [Role.DEVELOPER, Role.SECURITY_OWNER])
    workspaces = list(Workspace.objects.for_organization(acme))

    assert list(Workspace.objects.visible_to(member.user)) == [checkout]
    with django_assert_num_queries(2):  # guardian's checker: user and group grants
        roles = workspace_roles_of(member.user, [member], workspaces)
    assert roles == {checkout.pk: ("developer", "security_owner")}


@pytest.mark.django_db
def test_a_superuser_member_gets_only_what_was_granted(acme, membership_factory, user_factory):
    staff = user_factory(is_superuser=True, is_staff=True)
    member = membership_factory(user=staff, organization=acme, roles=[Role.VIEWER],
                                restricted=True)
    checkout = Workspace.objects.get(slug="checkout")
    grant(staff, checkout, [Role.DEVELOPER])

    assert list(Workspace.objects.visible_to(staff)) == [checkout]
    assert workspace_roles_of(staff, [member], Workspace.objects.all()) == {
        checkout.pk: ("developer",)}
    assert not _can(staff, "checkout", "production.manage")


# --- the service -------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_owner_sets_a_members_roles_per_workspace(acme, membership_factory):
    member = membership_factory(organization=acme, roles=[Role.DEVELOPER])
    payouts = Workspace.objects.get(slug="payouts")

    set_workspace_roles(actor=acme.created_by, organization=acme, membership_id=member.pk,
                        workspace_id=payouts.pk, roles=[Role.VIEWER])

    assert _can(member.user, "checkout", "sandbox.manage")
    assert not _can(member.user, "payouts", "sandbox.manage")
    assert _can(member.user, "payouts", "sandbox.read")
    [event] = AuditEvent.objects.filter(action=Action.WORKSPACE_ROLES_CHANGED)
    assert (event.workspace, event.details) == (payouts, {
        "email": member.user.email, "workspace": "payouts", "roles": ["viewer"]})


@pytest.mark.django_db
def test_no_access_in_one_workspace_keeps_the_others_and_closes_new_ones(
    acme, membership_factory, workspace_factory
):
    member = membership_factory(organization=acme, roles=[Role.DEVELOPER])
    checkout, payouts = Workspace.objects.order_by("name")

    set_workspace_roles(actor=acme.created_by, organization=acme, membership_id=member.pk,
                        workspace_id=payouts.pk, roles=[])
    workspace_factory(organization=acme, slug="later", created_by=acme.created_by)

    member.refresh_from_db()
    assert member.restricted
    assert list(Workspace.objects.visible_to(member.user)) == [checkout]
    assert _can(member.user, "checkout", "sandbox.manage")


@pytest.mark.django_db
def test_back_to_organization_roles(acme, membership_factory):
    member = membership_factory(organization=acme, roles=[Role.DEVELOPER], restricted=True)
    checkout = Workspace.objects.get(slug="checkout")
    grant(member.user, checkout, [Role.VIEWER])

    set_workspace_roles(actor=acme.created_by, organization=acme, membership_id=member.pk,
                        workspace_id=checkout.pk, roles=None)

    assert _can(member.user, "checkout", "sandbox.manage")


@pytest.mark.django_db
def test_an_owners_workspace_roles_are_not_narrowed(acme):
    from django.core.exceptions import ValidationError

    owner = acme.memberships.get()
    with pytest.raises(ValidationError) as raised:
        set_workspace_roles(actor=acme.created_by, organization=acme, membership_id=owner.pk,
                            workspace_id=Workspace.objects.first().pk, roles=[Role.VIEWER])

    assert raised.value.message_dict["roles"] == [
        "Owners have every workspace with their organization roles; change their "
        "organization roles first."]


# --- the pages ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_owner_grants_a_role_in_one_workspace_from_the_member_page(
    acme, membership_factory, client
):
    from django.urls import reverse

    member = membership_factory(organization=acme, roles=[Role.DEVELOPER])
    payouts = Workspace.objects.get(slug="payouts")
    client.force_login(acme.created_by)

    page = client.post(reverse("member_workspace_roles", args=["acme", member.pk]),
                       {"workspace": payouts.pk, "role": "viewer"}, follow=True)

    text = page.content.decode()
    assert f"{member.user.display_name} in Payouts: Viewer." in text
    assert "<td>Payouts</td>\n            <td>Viewer</td>" in text
    assert "<td>Checkout</td>\n            <td>Developer <span class=\"muted\">(organization " \
           "roles)</span></td>" in text
    listing = client.get(reverse("members", args=["acme"])).content.decode()
    assert "Payouts: Viewer<br>" in listing
    assert "Others: organization roles" in listing


@pytest.mark.django_db
@pytest.mark.parametrize("size", [10, 200])
def test_member_pages_cost_the_same_queries_at_10_and_200_members_and_workspaces(
    acme, membership_factory, workspace_factory, client, size, django_assert_max_num_queries
):
    from django.urls import reverse

    for _ in range(size):
        member = membership_factory(organization=acme, roles=[Role.DEVELOPER])
        workspace = workspace_factory(organization=acme, created_by=acme.created_by)
        grant(member.user, workspace, [Role.VIEWER])
    client.force_login(acme.created_by)
    for url in [reverse("members", args=["acme"]),
                reverse("member_detail", args=["acme", member.pk])]:
        client.get(url)
        with django_assert_max_num_queries(14):
            assert "Viewer" in client.get(url).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(("ws_slug", "yours"), [("checkout", True), ("payouts", False)])
def test_the_next_lane_is_the_members_in_the_workspace_where_they_hold_the_role(
    acme, membership_factory, client, ws_slug, yours
):
    from django.urls import reverse

    member = membership_factory(organization=acme, roles=[Role.VIEWER])
    grant(member.user, Workspace.objects.get(slug="checkout"), [Role.TECHNICAL_LEAD])
    client.force_login(member.user)

    page = client.get(reverse("workspace_overview", args=["acme", ws_slug])).content.decode()

    assert ('class="lane-banner lane-banner--yours"' in page) is yours


# --- invitations ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_invitation_grants_a_role_in_one_workspace(acme, client, user_factory):
    from django.urls import reverse

    from workspaces.models import Invitation
    from workspaces.services.invitations import accept_invitation

    checkout = Workspace.objects.get(slug="checkout")
    client.force_login(acme.created_by)
    form = client.get(reverse("invitations", args=["acme"])).content.decode()
    assert f'<option value="{checkout.pk}">Checkout</option>' in form
    assert "Role in row 1" in form

    client.post(reverse("invitations", args=["acme"]), {
        "email": "cory@contractor.test", "roles": [Role.VIEWER], "scope": "listed",
        "row-0-workspace": checkout.pk, "row-0-role": Role.TECHNICAL_LEAD})
    invitation = Invitation.objects.get()
    assert invitation.workspace_roles == {str(checkout.pk): ["technical_lead"]}
    [event] = AuditEvent.objects.filter(action=Action.MEMBER_INVITED)
    assert event.details["workspace_roles"] == {"checkout": ["technical_lead"]}

    cory = user_factory(email="cory@contractor.test")
    accept_invitation(actor=cory, invitation_id=invitation.pk)

    assert _can(cory, "checkout", "production.manage")
    with pytest.raises(Http404):
        resolve_workspace(cory, "acme", "payouts")


@pytest.mark.django_db
def test_an_owner_is_not_invited_with_narrower_roles_in_a_workspace(acme):
    from django.core.exceptions import ValidationError

    from workspaces.models import Invitation
    from workspaces.services.invitations import invite_member

    with pytest.raises(ValidationError) as raised:
        invite_member(actor=acme.created_by, organization=acme, email="new@acme.test",
                      roles=[Role.OWNER],
                      workspace_roles={Workspace.objects.first(): [Role.VIEWER]})

    assert "Owners have every workspace" in raised.value.message_dict["roles"][0]
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_the_members_page_paginates_and_filters_by_role_and_name(
    acme, membership_factory, user_factory, client
):
    from django.urls import reverse

    for i in range(55):
        membership_factory(organization=acme, roles=[Role.DEVELOPER],
                           user=user_factory(full_name=f"Dev {i:02d}"))
    membership_factory(organization=acme, roles=[Role.BILLING_CONTACT],
                       user=user_factory(full_name="Dana Lee", email="dana@acme.test"))
    client.force_login(acme.created_by)
    url = reverse("members", args=["acme"])

    first = client.get(url).content.decode()
    second = client.get(url, {"page": 2}).content.decode()
    billing = client.get(url, {"role": "billing_contact"}).content.decode()
    by_name = client.get(url, {"q": "dana"}).content.decode()

    assert "57 members." in first and first.count("Edit<span") == 50
    assert "Page 2 of 2" in second and second.count("Edit<span") == 7
    assert "1 member match." in billing and "Dana Lee" in billing and "Dev 00" not in billing
    assert "Dana Lee" in by_name and by_name.count("Edit<span") == 1
