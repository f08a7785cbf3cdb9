"""Creating organizations and their workspaces.

Each service owns its transaction: it locks the row it changes, validates, writes the
change and its audit event together, and sends mail only after commit.
"""


from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from audit.models import Action
from audit.services import record
from workspaces.models import (
    Membership,
    Organization,
    Workspace,
)
from workspaces.roles import Role
from workspaces.services.members import lock_organization

RESERVED_SLUGS = frozenset({"new", "admin", "api", "static", "settings"})


def _unique_slug(name: str, taken) -> str:
    base = slugify(name)[:50].strip("-") or "org"
    if base in RESERVED_SLUGS:
        base = f"{base}-1"
    slug, n = base, 1
    while taken(slug):
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def create_organization(*, actor, name: str) -> Organization:
    """Create an organization whose first Owner is the actor."""
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": "Enter the organization's name."})
    slug = _unique_slug(name, lambda s: Organization.objects.filter(slug=s).exists())
    organization = Organization.objects.create(name=name, slug=slug, created_by=actor)
    Membership.objects.create(user=actor, organization=organization, roles=[Role.OWNER])
    record(action=Action.ORGANIZATION_CREATED, actor=actor, organization=organization,
           target=organization, details={"name": name})
    return organization


@transaction.atomic
def create_workspace(*, actor, organization: Organization, name: str) -> Workspace:
    """Create a workspace in an organization; its slug is unique there and never changes."""
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": "Enter the workspace's name."})
    organization = lock_organization(organization)
    slug = _unique_slug(name, lambda s: Workspace.objects.filter(
        organization=organization, slug=s).exists())
    workspace = Workspace.objects.create(organization=organization, name=name, slug=slug,
                                         created_by=actor)
    record(action=Action.WORKSPACE_CREATED, actor=actor, workspace=workspace, target=workspace,
           details={"name": name})
    return workspace


@transaction.atomic
def set_mfa_requirement(*, actor, organization: Organization, required: bool) -> Organization:
    """An Owner requires (or stops requiring) two-factor authentication of every member.
    An Owner without it cannot require it: they would be the first one locked out."""
    organization = lock_organization(organization)
    if not Membership.objects.for_organization(organization).with_role(Role.OWNER).filter(
            user=actor).exists():
        raise ValidationError("Only an Owner can change this setting.")
    if organization.require_mfa == required:
        return organization
    if required and not actor.has_second_factor:
        raise ValidationError({"require_mfa": "Turn on two-factor authentication for "
                                              "yourself first."})
    organization.require_mfa = required
    organization.save(update_fields=["require_mfa"])
    record(action=Action.MFA_REQUIRED if required else Action.MFA_NOT_REQUIRED, actor=actor,
           organization=organization, target=organization)
    return organization
