"""The audit log, its export and the integration history show only the workspaces where
the reader's roles may read them: a table of reader → what is visible, on the page."""

import pytest
from django.urls import reverse

from audit.models import Action, AuditEvent
from workspaces.grants import grant
from workspaces.roles import Role


@pytest.fixture
def acme(workspace_factory, organization_factory, membership_factory, user_factory):
    owner = user_factory(full_name="Olive Owner")
    organization = organization_factory(name="Acme", slug="acme", created_by=owner)
    membership_factory(user=owner, organization=organization, roles=[Role.OWNER])
    for name in ["Checkout", "Payouts"]:
        workspace = workspace_factory(organization=organization, name=name,
                                      slug=name.lower(), created_by=owner)
        AuditEvent.objects.create(action=Action.WEBHOOK_ENDPOINT_CREATED, actor=owner,
                                  organization=organization, workspace=workspace,
                                  details={"name": f"{name.lower()}-hook"})
    AuditEvent.objects.create(action=Action.BILLING_PROFILE_UPDATED, actor=owner,
                              organization=organization, details={"name": "billing-profile"})
    return organization


READERS = {
    # reader: organization roles, restricted?, per-workspace grant on Checkout
    "owner": ([Role.OWNER], False, None),
    "security owner": ([Role.SECURITY_OWNER], False, None),
    "contractor lead in Checkout": ([Role.VIEWER], True, [Role.TECHNICAL_LEAD]),
    "contractor security in Checkout": ([Role.VIEWER], True, [Role.SECURITY_OWNER]),
    "developer": ([Role.DEVELOPER], False, None),
    "security owner, viewer in Checkout": ([Role.SECURITY_OWNER], False, [Role.VIEWER]),
}
CHECKOUT, PAYOUTS, BILLING = ("checkout-hook", "payouts-hook", "billing-profile")


def _reader(acme, membership_factory, name):
    roles, restricted, checkout_roles = READERS[name]
    member = membership_factory(organization=acme, roles=roles, restricted=restricted)
    if checkout_roles:
        grant(member.user, acme.workspaces.get(slug="checkout"), checkout_roles)
    return member.user


@pytest.mark.django_db
@pytest.mark.parametrize(("reader", "visible"), [
    ("owner", {CHECKOUT, PAYOUTS, BILLING}),
    ("security owner", {CHECKOUT, PAYOUTS, BILLING}),
    ("contractor lead in Checkout", {CHECKOUT}),
    ("contractor security in Checkout", {CHECKOUT}),
    ("developer", None),
    ("security owner, viewer in Checkout", {PAYOUTS}),
])
def test_the_audit_log_shows_the_events_of_the_workspaces_the_reader_may_read(
    acme, membership_factory, client, reader, visible
):
    client.force_login(_reader(acme, membership_factory, reader))

    response = client.get(reverse("organization_audit", args=["acme"]))

    if visible is None:
        assert response.status_code == 403
        return
    text = response.content.decode()
    assert {m for m in (CHECKOUT, PAYOUTS, BILLING) if m in text} == visible


@pytest.mark.django_db
@pytest.mark.parametrize(("reader", "visible"), [
    ("owner", {CHECKOUT, PAYOUTS, BILLING}),
    ("security owner", {CHECKOUT, PAYOUTS, BILLING}),
    ("contractor lead in Checkout", None),
    ("contractor security in Checkout", {CHECKOUT}),
    ("developer", None),
    ("security owner, viewer in Checkout", {PAYOUTS}),
])
def test_the_export_holds_the_events_of_the_workspaces_the_reader_may_export(
    acme, membership_factory, client, reader, visible
):
    client.force_login(_reader(acme, membership_factory, reader))

    response = client.get(reverse("organization_audit_export", args=["acme", "csv"]))

    if visible is None:
        assert response.status_code == 403
        return
    csv = b"".join(response.streaming_content).decode()
    assert {m for m in (CHECKOUT, PAYOUTS, BILLING) if m in csv} == visible


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "reads"), [
    (Role.OWNER, True), (Role.TECHNICAL_LEAD, True), (Role.SECURITY_OWNER, True),
    (Role.COMPLIANCE, True), (Role.DEVELOPER, False), (Role.BILLING_CONTACT, False),
    (Role.VIEWER, False),
])
def test_integration_history_needs_the_audit_log_capability_in_that_workspace(
    acme, membership_factory, client, role, reads
):
    member = membership_factory(organization=acme, roles=[role])
    client.force_login(member.user)

    response = client.get(reverse("workspace_history", args=["acme", "checkout"]))
    overview = client.get(reverse("workspace_overview", args=["acme", "checkout"]))

    assert response.status_code == (200 if reads else 403)
    assert (CHECKOUT in response.content.decode()) is reads
    assert ("Integration history" in overview.content.decode()) is reads


@pytest.mark.django_db
@pytest.mark.parametrize("size", [10, 200])
def test_the_filtered_audit_log_costs_the_same_queries_at_10_and_200_workspaces(
    acme, membership_factory, workspace_factory, client, size, django_assert_max_num_queries
):
    reader = _reader(acme, membership_factory, "contractor lead in Checkout")
    for _ in range(size):
        workspace = workspace_factory(organization=acme, created_by=acme.created_by)
        grant(reader, workspace, [Role.VIEWER])
    client.force_login(reader)
    url = reverse("organization_audit", args=["acme"])
    client.get(url)

    # The workspaces and guardian's prefetched grants: three queries more than an Owner's.
    with django_assert_max_num_queries(16):
        assert CHECKOUT in client.get(url).content.decode()
