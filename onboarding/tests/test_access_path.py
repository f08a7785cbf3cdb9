"""The operator path as a person reads it on /access/."""

import re
from html import unescape

import pytest
from django.urls import reverse

from onboarding import services
from onboarding.selectors import PATH_WORKSPACES
from onboarding.tests.factories import owner_alone_at_billing_setup
from workspaces.roles import Role


def path_rows(html: str, within: str = "") -> list[tuple[str, str, str]]:
    """(label, badge, detail) of each step shown, in order; `within` narrows to one
    workspace's line (its data-workspace value)."""
    if within:
        html = re.search(rf'data-workspace="{within}".*?</details>', html, re.S)[0]
    else:
        html = re.search(r'data-testid="operator-path".*?</section>', html, re.S)[0]
    rows = []
    for item in re.findall(r'<li class="checklist__item.*?</li>', html, re.S):
        label = re.search(r"<strong>(.*?)</strong>", item)[1]
        badge = re.search(r'<span class="badge[^"]*">(.*?)</span>', item)[1]
        rest = item.split("</span>", 1)[1]
        detail = " ".join(unescape(re.sub(r"<[^>]+>", " ", rest)).split())
        rows.append((label, badge, detail))
    return rows


LABELS = ["Signed in", "Email verified", "Attached to an organization", "A workspace",
          "Sandbox access", "First sandbox key", "First API call", "Webhook endpoint",
          "Usage reviewed", "Production review", "In production"]


@pytest.mark.django_db
def test_an_owner_sees_the_whole_path_with_its_one_next_button(client, workspace, owner):
    client.force_login(owner)

    text = client.get(reverse("access")).content.decode()

    rows = path_rows(text)
    assert [label for label, _, _ in rows] == LABELS
    assert [badge for _, badge, _ in rows] == ["Done"] * 4 + ["Your next step"] + \
        ["Ahead"] * 6
    created = workspace.created_at.strftime("%-d %b %Y, %H:%M")
    assert rows[3] == ("A workspace", "Done", f"{created} UTC")
    sandbox = reverse("sandbox_request", args=[workspace.organization.slug, workspace.slug])
    assert f'href="{sandbox}">Request sandbox access</a>' in text
    # the banner offers the same button
    banner = re.search(r'data-testid="lane-banner".*?</section>', text, re.S)[0]
    assert f'href="{sandbox}">Request sandbox access</a>' in banner


@pytest.mark.django_db
def test_a_step_of_someone_else_names_who_it_waits_on(client, workspace, owner,
                                                       member_client):
    services.request_sandbox_access(actor=owner, workspace=workspace, use_case="x" * 30,
                                    expected_monthly_calls=5, product_areas=["accounts"])
    client, _ = member_client(workspace.organization, Role.BILLING_CONTACT)

    rows = path_rows(client.get(reverse("access")).content.decode())

    assert rows[4][:2] == ("Sandbox access", "Done")
    assert rows[5] == ("First sandbox key", "Waiting",
                       f"Waiting on {owner.display_name} (owner)")


@pytest.mark.django_db
def test_a_pending_sandbox_request_waits_on_a_platform_reviewer(
        client, workspace, owner, settings):
    settings.SANDBOX_AUTO_APPROVE = False
    services.request_sandbox_access(actor=owner, workspace=workspace, use_case="x" * 30,
                                    expected_monthly_calls=5, product_areas=["accounts"])
    client.force_login(owner)

    rows = path_rows(client.get(reverse("access")).content.decode())

    assert rows[4] == ("Sandbox access", "Waiting", "Waiting on a platform reviewer")


@pytest.mark.django_db
def test_an_owner_is_offered_to_invite_the_missing_billing_contact_on_the_path(
        client, workspace, owner):
    invite = owner_alone_at_billing_setup(client, workspace, owner)

    text = client.get(reverse("access")).content.decode()

    rows = path_rows(text)
    assert rows[9][:2] == ("Production review", "Your next step")
    assert "Billing setup needs a Billing contact" in rows[9][2]
    assert f'href="{invite}">Invite a Billing contact</a>' in text
    form = client.get(invite).content.decode()
    assert re.findall(r'name="roles" value="(\w+)"[^>]*checked', form) == ["billing_contact"]


@pytest.mark.django_db
def test_each_workspace_has_its_own_line_with_its_current_lane(
        client, workspace, owner, organization_factory, workspace_factory,
        membership_factory):
    services.request_sandbox_access(actor=owner, workspace=workspace, use_case="x" * 30,
                                    expected_monthly_calls=5, product_areas=["accounts"])
    zebra = organization_factory(name="Zebra", slug="zebra")
    membership_factory(user=zebra.created_by, organization=zebra, roles=[Role.OWNER])
    membership_factory(user=owner, organization=zebra, roles=[Role.VIEWER])
    workspace_factory(organization=zebra, name="Stripes", slug="stripes")
    client.force_login(owner)
    org = workspace.organization.slug

    text = client.get(reverse("access")).content.decode()

    path = re.search(r'data-testid="operator-path".*?</section>', text, re.S)[0]
    lines = re.findall(r"<summary>(.*?)</summary>", path, re.S)
    assert [" ".join(re.sub(r"<[^>]+>", " ", s).split()) for s in lines] == [
        f"{workspace.organization.name} · {workspace.name} · Issue your first sandbox key "
        "(1 of 7 done)",
        f"Zebra · Stripes · Sandbox access: waiting on {zebra.created_by.display_name} "
        "(owner) (0 of 7 done)",
    ]
    assert path_rows(text, f"{org}/{workspace.slug}")[1][:2] == ("First sandbox key",
                                                                  "Your next step")
    assert path_rows(text, "zebra/stripes")[0][:2] == ("Sandbox access", "Waiting")


@pytest.mark.django_db
def test_an_unverified_person_is_asked_to_verify_first(client, user_factory):
    user = user_factory(verified=False)
    client.force_login(user)

    text = client.get(reverse("access")).content.decode()

    assert [badge for _, badge, _ in path_rows(text)] == ["Done", "Your next step"] + \
        ["Ahead"] * 9
    path = re.search(r'data-testid="operator-path".*?</section>', text, re.S)[0]
    assert "Resend verification email</button>" in path


@pytest.mark.django_db
def test_a_member_who_cannot_create_a_workspace_waits_on_the_owners(
        client, user_factory, organization_factory, membership_factory):
    owner = user_factory(full_name="Olga Owner")
    organization = organization_factory(created_by=owner)
    membership_factory(user=owner, organization=organization, roles=[Role.OWNER])
    member = membership_factory(organization=organization, roles=[Role.DEVELOPER]).user
    client.force_login(member)

    rows = path_rows(client.get(reverse("access")).content.decode())

    assert rows[3] == ("A workspace", "Waiting", "Waiting on Olga Owner (owner)")


@pytest.mark.django_db
@pytest.mark.parametrize(("workspaces", "members"), [(1, 10), (30, 10), (1, 200), (30, 200)])
def test_the_path_costs_the_same_queries_however_many_workspaces_and_members(
        client, workspace, owner, workspace_factory, membership_factory,
        django_assert_max_num_queries, workspaces, members):
    organization = workspace.organization
    for _ in range(workspaces - 1):
        other = workspace_factory(organization=organization)
        services.request_sandbox_access(actor=owner, workspace=other, use_case="x" * 30,
                                        expected_monthly_calls=5, product_areas=["accounts"])
    for _ in range(members - 1):
        membership_factory(organization=organization, roles=[Role.DEVELOPER])
    client.force_login(owner)
    client.get(reverse("access"))

    # the session, the user, the access facts (7), the account's moments (1), the
    # workspaces with the viewer's grants (4) and their facts (3), the header's switcher
    with django_assert_max_num_queries(18):
        text = client.get(reverse("access")).content.decode()

    # Past PATH_WORKSPACES, the rest are on their organization's home.
    assert len(re.findall(r'<details class="path-workspace"', text)) == min(
        workspaces, PATH_WORKSPACES)


@pytest.mark.django_db
def test_past_ten_workspaces_the_page_draws_the_first_ten_and_says_where_the_rest_are(
        client, workspace, owner, workspace_factory):
    for n in range(12):
        workspace_factory(organization=workspace.organization, name=f"App {n:02d}",
                          slug=f"app-{n:02d}", created_by=owner)
    client.force_login(owner)

    page = client.get(reverse("access")).content.decode()

    drawn = re.findall(r'data-workspace="[\w-]+/([\w-]+)"', page)
    assert drawn == [f"app-{n:02d}" for n in range(10)]
    assert ("These are your first 10 workspaces by organization and name; find the others "
            "on each organization's home.") in page
