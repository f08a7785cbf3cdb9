import re

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from onboarding import services
from portal.context_processors import STAGES
from workspaces.grants import grant
from workspaces.roles import Role
from workspaces.tests.test_tenancy import our_patterns

ALLAUTH_PAGES = ["account_email", "account_change_password", "mfa_index", "usersessions_list"]


@pytest.fixture
def scoped(workspace, owner):
    """URL arguments for every pattern, all within the owner's own organization."""
    return {"org_slug": workspace.organization.slug, "ws_slug": workspace.slug,
            "membership_id": workspace.organization.memberships.get(user=owner).pk,
            "fmt": "csv", "environment": "sandbox", "stage": "consent"}


def signed_in_pages(scoped):
    for name, kwargs in our_patterns():
        if name.startswith(("docs:", "sandbox:", "gateway_", "admin:", "metrics")) or \
                not kwargs <= scoped.keys():
            continue
        if name in ("review_screenshot", "review_attachment"):  # files, not pages
            continue
        yield name, reverse(name, kwargs={k: scoped[k] for k in kwargs})
    for name in ALLAUTH_PAGES:
        yield name, reverse(name)


@pytest.mark.django_db
def test_every_signed_in_page_shows_the_stage_and_the_next_lane(client, owner, scoped):
    client.force_login(owner)
    seen = []

    for name, url in signed_in_pages(scoped):
        response = client.get(url)
        if response.status_code == 405 or response.get("Content-Type", "").startswith(
                ("text/csv", "application/json")):
            continue
        # The Owner lacks only audit.export and keys.policy (DESIGN §3); the 403 page is a
        # page too.
        assert response.status_code == (
            403 if name in ("organization_audit_export", "key_policy_edit") else 200), \
            f"{name}: {response.status_code}"
        text = response.content.decode()
        assert 'data-testid="lane-banner"' in text, name
        band = re.search(r'class="stage-band stage-band--(\w*)".*?'
                         r'<strong class="stage-band__label">([^<]*)</strong>', text, re.S)
        assert band, name
        stage = STAGES.get(band[1])
        assert stage is not None and band[2] == stage.label, f"{name}: {band.groups()}"
        assert f'<body class="stage-{stage.key}">' in text, name
        title = " ".join(re.search(r"<title>(.*?)</title>", text, re.S)[1].split())
        assert re.fullmatch(rf"\S.* · {stage.label} · Developer portal", title), \
            f"{name}: {title!r}"
        seen.append(name)

    assert {"access", "workspace_overview", "members", "billing", "account_email",
            "review_stage"} <= set(seen)


@pytest.mark.django_db
def test_workspace_banner_moves_on_when_sandbox_access_is_granted(client, workspace, owner):
    client.force_login(owner)
    overview = reverse("workspace_overview", args=[workspace.organization.slug, workspace.slug])
    assert "Request sandbox access" in client.get(overview).content.decode()

    services.request_sandbox_access(actor=owner, workspace=workspace, use_case="x" * 30,
                                    expected_monthly_calls=5, product_areas=["accounts"])

    text = client.get(overview).content.decode()
    assert "Issue your first sandbox key" in text
    assert "stage-band--sandbox" in text


@pytest.mark.django_db
def test_banner_names_who_a_step_waits_on(client, workspace, owner, member_client):
    services.request_sandbox_access(actor=owner, workspace=workspace, use_case="x" * 30,
                                    expected_monthly_calls=5, product_areas=["accounts"])
    client, _ = member_client(workspace.organization, Role.BILLING_CONTACT)

    text = client.get(reverse("billing", args=[workspace.organization.slug])).content.decode()

    assert f"Issue your first sandbox key is waiting on {owner.display_name} (owner)." in text


@pytest.mark.django_db
@pytest.mark.parametrize("size", [1, 200])
def test_banner_costs_the_same_queries_with_1_and_200_members_and_workspaces(
    client, workspace, owner, membership_factory, workspace_factory, size,
    django_assert_max_num_queries,
):
    organization = workspace.organization
    for _ in range(size):
        membership_factory(organization=organization, roles=[Role.DEVELOPER])
        workspace_factory(organization=organization, created_by=owner)
    client.force_login(owner)
    pages = [reverse("workspace_overview", args=[organization.slug, workspace.slug]),
             reverse("account_email"), reverse("access")]
    for url in pages:
        client.get(url)
        # /access/ also draws every workspace's path (onboarding/tests/test_access_path.py)
        with django_assert_max_num_queries(18 if url == reverse("access") else 14):
            assert 'data-testid="lane-banner"' in client.get(url).content.decode()


@pytest.mark.django_db
def test_anonymous_pages_show_no_banner(client):
    text = client.get(reverse("docs:index")).content.decode()

    assert 'data-testid="lane-banner"' not in text
    assert AuditEvent.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.OWNER, Role.DEVELOPER])
def test_an_organization_page_never_shows_another_organizations_lane(
        client, workspace, owner, organization_factory, membership_factory, role):
    # given a person in two organizations: "Aardvark" (first by name) with a workspace,
    # and "Zebra" with none
    workspace.organization.name = "Aardvark"
    workspace.organization.save(update_fields=["name"])
    zebra = organization_factory(name="Zebra", created_by=owner)
    membership_factory(user=owner, organization=zebra, roles=[role])
    client.force_login(owner)

    # when they open Zebra's pages
    text = client.get(reverse("organization_home", args=[zebra.slug])).content.decode()

    # then the banner is Zebra's, and says nothing of Aardvark's workspace
    banner = re.search(r'data-testid="lane-banner".*?</section>', text, re.S)[0]
    assert "Aardvark" not in banner and workspace.name not in banner
    assert "Attached to Zebra; no workspace yet" in banner
    assert ("Create a workspace" if role == Role.OWNER else "See who can create one") in banner


@pytest.mark.django_db
def test_each_organizations_pages_show_their_own_workspaces_lane(
        client, workspace, owner, workspace_factory, membership_factory, organization_factory):
    zebra = organization_factory(name="Zebra", created_by=owner)
    membership_factory(user=owner, organization=zebra, roles=[Role.OWNER])
    stripes = workspace_factory(organization=zebra, name="Stripes")
    services.request_sandbox_access(actor=owner, workspace=stripes, use_case="x" * 30,
                                    expected_monthly_calls=5, product_areas=["accounts"])
    client.force_login(owner)

    pages = {org.slug: client.get(reverse("members", args=[org.slug])).content.decode()
             for org in (workspace.organization, zebra)}

    assert f"{workspace.organization.name} · {workspace.name}" in pages[
        workspace.organization.slug]
    assert "Request sandbox access" in pages[workspace.organization.slug]
    assert "Zebra · Stripes" in pages[zebra.slug]
    assert "Issue your first sandbox key" in pages[zebra.slug]


@pytest.mark.django_db
def test_an_organization_page_reads_the_viewers_roles_in_the_workspace_it_shows(
        client, workspace, owner, member_client):
    # given a Developer of the organization who is only a Viewer in its workspace
    services.request_sandbox_access(actor=owner, workspace=workspace, use_case="x" * 30,
                                    expected_monthly_calls=5, product_areas=["accounts"])
    client, member = member_client(workspace.organization, Role.DEVELOPER)
    grant(member.user, workspace, [Role.VIEWER])

    # when they open an organization page
    text = client.get(reverse("organization_home", args=[workspace.organization.slug]))

    # then the first key is not theirs to issue there
    banner = re.search(r'<section class="lane-banner.*?</section>', text.content.decode(),
                       re.S)[0]
    assert "Issue your first sandbox key is waiting on " in banner
    assert "lane-banner--waiting" in banner and "button--secondary" in banner
