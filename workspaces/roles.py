"""Roles and what each may do: DESIGN §3's matrix as one table of data.

A person may hold several roles; their capabilities add up. Checked as
`membership.can("members.manage")`.
"""

from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    TECHNICAL_LEAD = "technical_lead", "Technical lead"
    DEVELOPER = "developer", "Developer"
    SECURITY_OWNER = "security_owner", "Security owner"
    BILLING_CONTACT = "billing_contact", "Billing contact"
    COMPLIANCE = "compliance", "Compliance / audit"
    VIEWER = "viewer", "Viewer"


ROLE_DESCRIPTIONS = {
    Role.OWNER: "Manages members, billing and every key; submits reviews; exports the audit log.",
    Role.TECHNICAL_LEAD: "Manages sandbox and production keys and webhooks; submits reviews.",
    Role.DEVELOPER: "Manages sandbox keys and webhooks; sees production keys listed.",
    Role.SECURITY_OWNER: "Sets key policy; reads keys and exports the audit log.",
    Role.BILLING_CONTACT: "Manages the billing profile and plan.",
    Role.COMPLIANCE: "Reads billing, submits the consent review, exports the audit log.",
    Role.VIEWER: "Reads docs, sandbox configuration and usage.",
}

# Capability names: "<area>.<verb>".
CAPABILITIES: dict[str, frozenset[str]] = {
    Role.OWNER: frozenset({
        "docs.read", "sandbox.read", "sandbox.manage", "production.read", "production.detail",
        "production.manage",
        "usage.read", "billing.read", "billing.manage", "review.submit", "members.manage",
        "workspaces.manage", "audit.read", "policy.read",
        "audit.export",
    }),
    Role.TECHNICAL_LEAD: frozenset({
        "docs.read", "sandbox.read", "sandbox.manage", "production.read", "production.detail",
        "production.manage",
        "usage.read", "review.submit", "audit.read", "policy.read",
    }),
    Role.DEVELOPER: frozenset({
        "docs.read", "sandbox.read", "sandbox.manage", "production.read", "usage.read",
    }),
    Role.SECURITY_OWNER: frozenset({
        "docs.read", "sandbox.read", "production.read", "production.detail", "keys.policy",
        "policy.read",
        "usage.read", "audit.read", "audit.export",
    }),
    Role.BILLING_CONTACT: frozenset({"docs.read", "usage.read", "billing.read", "billing.manage"}),
    Role.COMPLIANCE: frozenset({
        "docs.read", "usage.read", "billing.read", "review.submit", "audit.read", "audit.export",
    }),
    Role.VIEWER: frozenset({"docs.read", "sandbox.read", "usage.read"}),
}

ALL_CAPABILITIES = frozenset().union(*CAPABILITIES.values())

CAPABILITY_DESCRIPTIONS = {
    "docs.read": "read the documentation",
    "sandbox.read": "see sandbox keys and webhooks",
    "sandbox.manage": "manage sandbox keys and webhooks",
    "production.read": "see production keys and webhooks listed",
    "production.detail": "open production webhook endpoints, their deliveries and events",
    "production.manage": "manage production keys and webhooks",
    "keys.policy": "set the key policy",
    "policy.read": "read the key policy",
    "usage.read": "read usage",
    "billing.read": "see billing",
    "billing.manage": "manage billing",
    "review.submit": "submit the consent review",
    "members.manage": "manage members",
    "workspaces.manage": "create workspaces",
    "audit.read": "read the audit log",
    "audit.export": "export the audit log",
}


def capabilities_of(roles) -> frozenset[str]:
    """Everything the holder of these roles may do."""
    return frozenset().union(*(CAPABILITIES[Role(r)] for r in roles)) if roles else frozenset()


def roles_with(capability: str) -> list[Role]:
    """The roles that grant a capability, in the order of the matrix."""
    if capability not in ALL_CAPABILITIES:
        raise KeyError(f"unknown capability {capability!r}")
    return [role for role in Role if capability in CAPABILITIES[role]]


# --- per-workspace grants ---------------------------------------------------------------
# Guardian object permissions on a workspace: "role_<role>" grants that role there (the
# member's organization roles no longer apply in that workspace); "access_workspace" lets a
# restricted member in with their organization roles.
ACCESS_WORKSPACE = "access_workspace"
ROLE_PERMISSION_PREFIX = "role_"


def role_permission(role: str) -> str:
    """The codename of the object permission that grants a role in one workspace."""
    return f"{ROLE_PERMISSION_PREFIX}{Role(role).value}"


ROLE_PERMISSIONS = tuple(role_permission(r) for r in Role)
WORKSPACE_PERMISSIONS = (ACCESS_WORKSPACE, *ROLE_PERMISSIONS)


def roles_in_workspace(organization_roles, restricted: bool, perms) -> tuple[str, ...] | None:
    """A member's roles in one workspace, from the codenames of their grants on it: the
    granted roles, else their organization's roles unless restricted; None: no access."""
    granted = tuple(r.value for r in Role if role_permission(r) in perms)
    if granted:
        return granted
    if ACCESS_WORKSPACE in perms or not restricted:
        return tuple(organization_roles)
    return None
