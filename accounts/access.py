"""The account-access state: which sentence and which one next step /access/ shows.

Pure: it reads facts gathered elsewhere and imports neither the ORM nor the request.
Order matters: the first rule that holds wins.
"""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class AccessKey(StrEnum):
    VERIFY_EMAIL = "verify_email"
    INVITED = "invited"
    AWAITING_APPROVAL = "awaiting_approval"
    NO_WORKSPACE = "no_workspace"
    HAS_WORKSPACES = "has_workspaces"
    NOT_ATTACHED = "not_attached"


@dataclass(frozen=True)
class InvitationFact:
    id: int
    organization: str
    roles: tuple[str, ...]
    invited_by: str


@dataclass(frozen=True)
class JoinRequestFact:
    id: int
    organization: str
    asked: tuple[str, ...]
    since: datetime


@dataclass(frozen=True)
class WorkspaceFact:
    name: str
    slug: str
    created_at: datetime | None = None


@dataclass(frozen=True)
class OrganizationFact:
    name: str
    slug: str
    roles: tuple[str, ...]
    workspaces: tuple[WorkspaceFact, ...] = ()
    can_create_workspace: bool = False
    joined_at: datetime | None = None
    owners: tuple[str, ...] = ()  # names of the organization's Owners


@dataclass(frozen=True)
class JoinableFact:
    id: int
    name: str


@dataclass(frozen=True)
class AccessFacts:
    email: str
    email_verified: bool
    invitations: tuple[InvitationFact, ...] = ()
    join_requests: tuple[JoinRequestFact, ...] = ()
    organizations: tuple[OrganizationFact, ...] = ()
    joinable: tuple[JoinableFact, ...] = field(default=())


@dataclass(frozen=True)
class NextStep:
    label: str
    url_name: str
    args: tuple = ()
    method: str = "get"


@dataclass(frozen=True)
class AccessState:
    key: AccessKey
    headline: str
    sentence: str
    step: NextStep | None


def _roles(roles: tuple[str, ...]) -> str:
    return " and ".join(roles) if len(roles) < 3 else ", ".join(roles[:-1]) + " and " + roles[-1]


def access_state(facts: AccessFacts) -> AccessState:
    """Map what we know about a person to their access state and single next step."""
    if not facts.email_verified:
        return AccessState(
            AccessKey.VERIFY_EMAIL, "Verify your email",
            f"We sent a verification link to {facts.email}. Open it to continue; "
            "nothing else in the portal is available until then.",
            NextStep("Resend verification email", "access_resend_verification", method="post"),
        )
    if facts.invitations:
        invitation = facts.invitations[0]
        return AccessState(
            AccessKey.INVITED,
            f"Invited to {invitation.organization} as {_roles(invitation.roles)}",
            f"{invitation.invited_by} invited you. Accept to join {invitation.organization}, "
            "or decline.",
            NextStep("Accept invitation", "access_invitation_accept", (invitation.id,),
                     method="post"),
        )
    if facts.organizations:
        with_workspaces = [o for o in facts.organizations if o.workspaces]
        if with_workspaces:
            first = with_workspaces[0]
            workspace = first.workspaces[0]
            return AccessState(
                AccessKey.HAS_WORKSPACES, "Your workspaces",
                "Each workspace shows its next step. Open one to continue.",
                NextStep(f"Open {workspace.name}", "workspace_overview",
                         (first.slug, workspace.slug)),
            )
        organization = facts.organizations[0]
        if organization.can_create_workspace:
            step = NextStep("Create a workspace", "workspace_create", (organization.slug,))
            sentence = ("A workspace holds one integration's keys, webhooks and usage. "
                        "Create one to request sandbox access.")
        else:
            step = NextStep("See who can create one", "organization_home", (organization.slug,))
            sentence = "An Owner of the organization can create a workspace for you."
        return AccessState(
            AccessKey.NO_WORKSPACE, f"Attached to {organization.name}; no workspace yet",
            sentence, step,
        )
    if facts.join_requests:
        join_request = facts.join_requests[0]
        return AccessState(
            AccessKey.AWAITING_APPROVAL,
            f"Waiting for {join_request.organization}'s admin to approve",
            f"You asked {_roles(join_request.asked) or 'its Owners'} on "
            f"{join_request.since:%d %b %Y at %H:%M} UTC. You will get an email when they "
            "decide.",
            NextStep("Cancel request", "access_join_request_cancel", (join_request.id,),
                     method="post"),
        )
    sentence = "Your account is ready but does not belong to an organization yet. "
    if facts.joinable:
        sentence += (f"{facts.joinable[0].name} uses your email domain: you can ask to join it, "
                     "or create your own organization.")
    else:
        sentence += ("If you are shipping the integration, create your organization; "
                     "teammates ask an Owner to invite them.")
    return AccessState(
        AccessKey.NOT_ATTACHED, "Not attached to an organization", sentence,
        NextStep("Create an organization", "organization_create"),
    )
