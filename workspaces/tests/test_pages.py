import pytest
from django.urls import reverse

from workspaces.models import JoinRequest
from workspaces.roles import Role
from workspaces.services.invitations import invite_member

ORG_PAGES = ["organization_home", "members", "invitations", "join_requests", "domains",
             "billing", "organization_leave", "organization_settings"]


@pytest.fixture
def populated(workspace, owner, membership_factory, user_factory, workspace_factory, settings):
    """Grow an organization by `n` members (and as many workspaces, invitations and
    join requests) so that query counts can be compared across sizes."""
    organization = workspace.organization
    # One Owner sends all these invitations: far above the hourly limits, on purpose.
    settings.PORTAL_ACTION_LIMITS = {action: {scope: (10_000, seconds)
                                              for scope, (_, seconds) in limits.items()}
                                     for action, limits in settings.PORTAL_ACTION_LIMITS.items()}

    def grow(n: int):
        for i in range(n):
            membership_factory(organization=organization, roles=[Role.DEVELOPER])
            workspace_factory(organization=organization, created_by=owner)
            invite_member(actor=owner, organization=organization,
                          email=f"invitee{i}@a.test", roles=[Role.VIEWER])
            JoinRequest.objects.create(organization=organization, user=user_factory())
        return organization

    return grow


@pytest.mark.django_db
@pytest.mark.parametrize("size", [1, 200])
@pytest.mark.parametrize("name", ORG_PAGES)
def test_organization_pages_cost_the_same_queries_at_1_and_200_members(
    client, owner, populated, name, size, django_assert_max_num_queries
):
    organization = populated(size)
    client.force_login(owner)
    url = reverse(name, args=[organization.slug])
    client.get(url)

    with django_assert_max_num_queries(13):
        response = client.get(url)

    assert response.status_code == 200
    assert b'class="stage-band' in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("size", [1, 200])
def test_access_and_member_pages_are_bounded_too(
    client, owner, populated, workspace, size, django_assert_max_num_queries
):
    organization = populated(size)
    client.force_login(owner)
    member = organization.memberships.exclude(user=owner).first()
    for url in [reverse("access"), reverse("member_detail", args=[organization.slug, member.pk]),
                reverse("workspace_overview", args=[organization.slug, workspace.slug])]:
        client.get(url)
        # /access/ also looks for organizations that verified the owner's email domain and
        # draws every workspace's path; every page reads the database session.
        with django_assert_max_num_queries(18 if url == reverse("access") else 14):
            assert client.get(url).status_code == 200


@pytest.mark.django_db
def test_member_without_capability_gets_403_naming_who_can(workspace, owner, member_client):
    client, _ = member_client(workspace.organization, Role.BILLING_CONTACT)

    response = client.get(reverse("members", args=[workspace.organization.slug]))

    assert response.status_code == 403
    text = response.content.decode()
    assert "To manage members in" in text
    assert "Owner" in text
    assert owner.display_name in text


@pytest.mark.django_db
def test_billing_contact_reads_and_edits_billing_but_viewer_cannot(workspace, member_client):
    organization = workspace.organization
    client, _ = member_client(organization, Role.BILLING_CONTACT)
    url = reverse("billing", args=[organization.slug])

    response = client.post(url, {"legal_name": "Acme GmbH", "address_line1": "1 Main St",
                                 "city": "Berlin", "postal_code": "10115", "country": "de",
                                 "tax_id": "DE123", "billing_email": "billing@acme.test"})

    assert response.status_code == 302
    organization.billing_profile.refresh_from_db()
    assert organization.billing_profile.is_complete
    assert organization.billing_profile.country == "DE"
    viewer_client, _ = member_client(organization, Role.VIEWER)
    assert viewer_client.get(url).status_code == 403


@pytest.mark.django_db
def test_compliance_reads_billing_but_cannot_change_it(workspace, member_client):
    client, _ = member_client(workspace.organization, Role.COMPLIANCE)
    url = reverse("billing", args=[workspace.organization.slug])

    assert client.get(url).status_code == 200
    assert client.post(url, {"legal_name": "X"}).status_code == 403


@pytest.mark.django_db
def test_bad_billing_input_is_shown_next_to_the_field_and_kept(workspace, member_client):
    client, _ = member_client(workspace.organization, Role.OWNER)

    response = client.post(reverse("billing", args=[workspace.organization.slug]),
                           {"legal_name": "Acme GmbH", "country": "Germany",
                            "billing_email": "not-an-email"})

    assert response.status_code == 400
    text = response.content.decode()
    assert "Use the two-letter country code" in text
    assert "Enter a valid email address." in text
    assert 'value="Acme GmbH"' in text


@pytest.mark.django_db
def test_creating_an_organization_makes_the_creator_owner_and_suggests_a_workspace(
    signed_in_client, user
):
    response = signed_in_client.post(reverse("organization_create"), {"name": "  Acme   Inc "})

    membership = user.memberships.get()
    assert membership.organization.name == "Acme Inc"
    assert membership.organization.slug == "acme-inc"
    assert membership.roles == [Role.OWNER]
    assert response["Location"] == reverse("workspace_create", args=["acme-inc"])
    page = signed_in_client.get(response["Location"]).content.decode()
    assert 'value="Acme Inc integration"' in page


@pytest.mark.django_db
def test_workspace_slugs_are_unique_within_an_organization(workspace, owner, client):
    client.force_login(owner)
    url = reverse("workspace_create", args=[workspace.organization.slug])

    client.post(url, {"name": "Payouts"})
    client.post(url, {"name": "Payouts"})

    slugs = sorted(workspace.organization.workspaces.values_list("slug", flat=True))
    assert slugs == sorted([workspace.slug, "payouts", "payouts-2"])


@pytest.mark.django_db
def test_empty_organization_name_is_refused_next_to_the_field(signed_in_client, user):
    response = signed_in_client.post(reverse("organization_create"), {"name": "   "})

    # The form strips whitespace, so the field-level message speaks.
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not user.memberships.exists()


@pytest.mark.django_db
def test_header_switcher_lists_each_of_the_users_organizations(
    client, user, membership_factory, organization_factory
):
    for name in ["Beta", "Alpha"]:
        membership_factory(user=user, organization=organization_factory(name=name))
    client.force_login(user)

    text = client.get(reverse("access")).content.decode()

    assert text.index(">Alpha<") < text.index(">Beta<")


@pytest.mark.django_db
def test_the_organization_home_lists_workspaces_a_page_at_a_time(
        client, owner, workspace, workspace_factory):
    organization = workspace.organization
    for n in range(55):
        workspace_factory(organization=organization, name=f"App {n:02d}", slug=f"app-{n:02d}")
    client.force_login(owner)
    url = reverse("organization_home", args=[organization.slug])

    first = client.get(url).content.decode()
    second = client.get(url + "?page=2").content.decode()

    assert "56 workspaces you can open, by name." in first
    assert ">App 00</a>" in first and ">App 49</a>" in first and ">App 50</a>" not in first
    assert "Page 1 of 2" in first and 'href="?page=2" rel="next"' in first
    assert ">App 50</a>" in second and ">App 54</a>" in second and ">App 00</a>" not in second
