"""Facts about one workspace's progress, loaded in a fixed number of queries.

The access state is computed from these facts, never stored by hand. Facts of parts
of the platform that are not built yet (keys, first call, webhooks, usage review,
production review) read as not done.
"""

from dataclasses import dataclass
from datetime import datetime

from onboarding.models import SandboxRequest
from workspaces.models import Membership
from workspaces.roles import Role

# At most this many people are loaded to name who a step waits on.
PEOPLE_LIMIT = 60


@dataclass(frozen=True)
class Person:
    name: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class WorkspaceFacts:
    organization_slug: str
    organization_name: str
    workspace_slug: str
    workspace_name: str
    sandbox_status: str | None = None
    sandbox_requested_at: datetime | None = None
    sandbox_decided_at: datetime | None = None
    sandbox_reason: str = ""
    first_key_at: datetime | None = None
    first_call_at: datetime | None = None
    webhook_acknowledged_at: datetime | None = None
    usage_reviewed_at: datetime | None = None
    production_approved_at: datetime | None = None
    people: tuple[Person, ...] = ()

    @property
    def sandbox_approved(self) -> bool:
        return self.sandbox_status == "approved"


def load_facts(workspace) -> WorkspaceFacts:
    """Everything lanes.py needs about a workspace: two queries whatever its size."""
    latest = (SandboxRequest.objects.for_workspace(workspace)
              .only("status", "created_at", "decided_at", "reason").first())
    people = (Membership.objects.for_organization(workspace.organization_id)
              .exclude(roles=[Role.VIEWER]).order_by("joined_at", "pk")
              .values_list("user__full_name", "user__email", "roles")[:PEOPLE_LIMIT])
    return WorkspaceFacts(
        organization_slug=workspace.organization.slug,
        organization_name=workspace.organization.name,
        workspace_slug=workspace.slug,
        workspace_name=workspace.name,
        sandbox_status=latest.status if latest else None,
        sandbox_requested_at=latest.created_at if latest else None,
        sandbox_decided_at=latest.decided_at if latest else None,
        sandbox_reason=latest.reason if latest else "",
        people=tuple(Person(name or email, tuple(roles)) for name, email, roles in people),
    )
