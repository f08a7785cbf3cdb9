import pytest

from workspaces.models import Membership
from workspaces.roles import CAPABILITIES, Role, capabilities_of, roles_with

# DESIGN §3's matrix, written out again by hand so that a change to roles.py must be
# a deliberate change to this table too.
MATRIX = {
    Role.OWNER: {
        "docs.read", "sandbox.read", "sandbox.manage", "production.read", "production.detail",
        "production.manage",
        "usage.read", "billing.read", "billing.manage", "review.submit", "members.manage",
        "workspaces.manage", "audit.read", "policy.read",
        "audit.export",
    },
    Role.TECHNICAL_LEAD: {
        "docs.read", "sandbox.read", "sandbox.manage", "production.read", "production.detail",
        "production.manage",
        "usage.read", "review.submit", "audit.read", "policy.read",
    },
    Role.DEVELOPER: {
        "docs.read", "sandbox.read", "sandbox.manage", "production.read", "usage.read",
    },
    Role.SECURITY_OWNER: {
        "docs.read", "sandbox.read", "production.read", "production.detail", "keys.policy",
        "policy.read", "usage.read",
        "audit.read", "audit.export",
    },
    Role.BILLING_CONTACT: {"docs.read", "usage.read", "billing.read", "billing.manage"},
    Role.COMPLIANCE: {
        "docs.read", "usage.read", "billing.read", "review.submit", "audit.read", "audit.export",
    },
    Role.VIEWER: {"docs.read", "sandbox.read", "usage.read"},
}


def test_the_matrix_names_every_role_and_nothing_else():
    assert set(MATRIX) == set(Role)
    assert set(CAPABILITIES) == set(Role)


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_each_role_has_exactly_the_capabilities_of_the_design_matrix(role):
    assert set(CAPABILITIES[role]) == MATRIX[role]


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_a_membership_with_one_role_can_exactly_what_the_matrix_says(role):
    membership = Membership(roles=[role.value])

    for capability in set().union(*MATRIX.values()):
        assert membership.can(capability) is (capability in MATRIX[role]), capability


def test_only_the_owner_may_manage_workspaces_and_members():
    assert roles_with("workspaces.manage") == [Role.OWNER]
    assert roles_with("members.manage") == [Role.OWNER]


def test_only_the_security_owner_sets_the_key_policy():
    assert roles_with("keys.policy") == [Role.SECURITY_OWNER]


def test_capabilities_add_up_across_roles():
    membership = Membership(roles=[Role.DEVELOPER, Role.BILLING_CONTACT])

    assert membership.can("sandbox.manage")  # from Developer
    assert membership.can("billing.manage")  # from Billing contact
    assert not membership.can("production.manage")  # from neither
    assert not membership.can("members.manage")
    assert membership.capabilities == frozenset(
        MATRIX[Role.DEVELOPER] | MATRIX[Role.BILLING_CONTACT])


def test_roles_stored_as_plain_strings_grant_the_same_capabilities():
    assert capabilities_of(["security_owner", "viewer"]) == frozenset(
        MATRIX[Role.SECURITY_OWNER] | MATRIX[Role.VIEWER])


def test_no_roles_grant_nothing():
    assert capabilities_of([]) == frozenset()
    assert not Membership(roles=[]).can("docs.read")


def test_an_unknown_role_is_refused():
    with pytest.raises(ValueError, match="superuser"):
        capabilities_of(["superuser"])


@pytest.mark.parametrize(("capability", "roles"), [
    ("audit.export", [Role.OWNER, Role.SECURITY_OWNER, Role.COMPLIANCE]),
    ("review.submit", [Role.OWNER, Role.TECHNICAL_LEAD, Role.COMPLIANCE]),
    ("billing.read", [Role.OWNER, Role.BILLING_CONTACT, Role.COMPLIANCE]),
    ("production.manage", [Role.OWNER, Role.TECHNICAL_LEAD]),
    ("sandbox.read", [Role.OWNER, Role.TECHNICAL_LEAD, Role.DEVELOPER, Role.SECURITY_OWNER,
                      Role.VIEWER]),
    ("docs.read", [Role.OWNER, Role.TECHNICAL_LEAD, Role.DEVELOPER, Role.SECURITY_OWNER,
                   Role.BILLING_CONTACT, Role.COMPLIANCE, Role.VIEWER]),
])
def test_roles_with_lists_the_granting_roles_in_matrix_order(capability, roles):
    assert roles_with(capability) == roles


def test_roles_with_an_unknown_capability_raises_key_error():
    with pytest.raises(KeyError, match=r"keys\.delete_everything"):
        roles_with("keys.delete_everything")
