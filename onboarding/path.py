"""The operator path: every step from first sign-in to production, for one person.

Pure: it takes the account-access facts (accounts/access.py) and each workspace's facts
with the viewer's roles there (onboarding/lanes.py), and imports neither the ORM nor the
request. Each step is done (with when), current (with the one button the next-lane banner
offers), waiting on someone (named), or ahead. The account's steps come once; the
workspace's steps come once per workspace, each with its own current lane.
"""

from dataclasses import dataclass
from datetime import datetime

from accounts.access import AccessFacts, AccessKey, access_state
from onboarding.lanes import Lane, WorkspaceFacts, next_lane

ACCOUNT_STEPS = {
    "signed_in": "Signed in",
    "email_verified": "Email verified",
    "attached": "Attached to an organization",
    "workspace": "A workspace",
}
WORKSPACE_STEPS = {
    "sandbox": "Sandbox access",
    "first_key": "First sandbox key",
    "first_call": "First API call",
    "webhook": "Webhook endpoint",
    "usage_reviewed": "Usage reviewed",
    "production_review": "Production review",
    "production": "In production",
}
# The whole path in order, as the access page and docs/content/access.md list it.
STEPS = {**ACCOUNT_STEPS, **WORKSPACE_STEPS}

# Which path step each lane of lanes.py belongs to; a "review_*" lane (a stage, two-factor
# authentication, an invitation) is the production review's.
LANE_STEPS = {
    "request_sandbox": "sandbox", "sandbox_pending": "sandbox", "sandbox_denied": "sandbox",
    "first_key": "first_key", "first_call": "first_call", "webhook": "webhook",
    "review_usage": "usage_reviewed", "production_review": "production_review",
    "first_live_key": "production", "first_live_call": "production",
    "production_webhook": "production",
}


@dataclass(frozen=True)
class AccountMoments:
    """When the account's steps happened, from existing rows and audit events."""

    signed_in_at: datetime | None = None  # the first sign-in
    email_verified_at: datetime | None = None


@dataclass(frozen=True)
class WorkspaceView:
    """A workspace's facts with the viewer's roles in it and their two-factor state."""

    facts: WorkspaceFacts
    roles: tuple[str, ...]
    mfa: bool = True


@dataclass(frozen=True)
class PathStep:
    key: str
    label: str
    state: str  # done | current | waiting | ahead
    when: datetime | None = None
    title: str = ""  # what the current step asks, in the banner's words
    sentence: str = ""
    button: str = ""
    url_name: str = ""
    url_args: tuple = ()
    query: tuple[tuple[str, str], ...] = ()
    method: str = "get"
    waiting_on: str = ""  # named people with their role, or "a platform reviewer"
    url: str = ""  # the button's address, filled in by onboarding/selectors.py


@dataclass(frozen=True)
class WorkspacePath:
    organization_name: str
    organization_slug: str
    workspace_name: str
    workspace_slug: str
    lane: Lane
    steps: tuple[PathStep, ...]

    @property
    def now(self) -> PathStep | None:
        """The step this workspace is at (current or waiting); None once in production."""
        return next((s for s in self.steps if s.state in ("current", "waiting")), None)

    @property
    def done(self) -> int:
        return sum(1 for s in self.steps if s.state == "done")


@dataclass(frozen=True)
class OperatorPath:
    account: tuple[PathStep, ...]
    workspaces: tuple[WorkspacePath, ...]
    # The workspace steps, all ahead, while the person has no workspace yet.
    ahead: tuple[PathStep, ...]
    # More workspaces than the page draws (selectors.PATH_WORKSPACES): on their homes.
    more: bool = False


def _owners(names) -> str:
    return ", ".join(f"{name} (owner)" for name in names)


def _account_steps(facts: AccessFacts, moments: AccountMoments) -> tuple[PathStep, ...]:
    state = access_state(facts)

    def now(key, state=state):
        step = state.step
        return PathStep(key, STEPS[key], "current", title=state.headline,
                        sentence=state.sentence, button=step.label, url_name=step.url_name,
                        url_args=step.args, method=step.method)

    def waiting(key, on, state=state):
        return PathStep(key, STEPS[key], "waiting", title=state.headline,
                        sentence=state.sentence, waiting_on=on)

    def done(key, when):
        return PathStep(key, STEPS[key], "done", when)

    def ahead(key):
        return PathStep(key, STEPS[key], "ahead")

    steps = [done("signed_in", moments.signed_in_at),
             done("email_verified", moments.email_verified_at) if facts.email_verified
             else now("email_verified")]
    organizations = facts.organizations
    if organizations:
        steps.append(done("attached", min(
            (o.joined_at for o in organizations if o.joined_at), default=None)))
    elif not facts.email_verified:
        steps.append(ahead("attached"))
    elif state.key == AccessKey.AWAITING_APPROVAL:
        request = facts.join_requests[0]
        steps.append(waiting("attached", _owners(request.asked) or
                             f"an Owner of {request.organization}"))
    else:
        steps.append(now("attached"))
    workspaces = [w for o in organizations for w in o.workspaces]
    if workspaces:
        steps.append(done("workspace", min(
            (w.created_at for w in workspaces if w.created_at), default=None)))
    elif organizations:
        # The access state of the first organization alone: create one, or its Owners do
        # (an invitation elsewhere does not hold this step back).
        first = organizations[0]
        alone = access_state(AccessFacts(facts.email, True, organizations=(first,)))
        steps.append(now("workspace", alone) if first.can_create_workspace else
                     waiting("workspace", _owners(first.owners) or f"an Owner of {first.name}",
                             alone))
    else:
        steps.append(ahead("workspace"))
    return tuple(steps)


def _done_at(facts: WorkspaceFacts) -> dict[str, datetime | None]:
    live = (facts.first_live_key_at, facts.first_live_call_at, facts.production_webhook_at)
    return {
        "sandbox": (facts.sandbox_approved_at or facts.sandbox_decided_at)
        if facts.sandbox_approved else None,
        "first_key": facts.first_key_at,
        "first_call": facts.first_call_at,
        "webhook": facts.webhook_acknowledged_at,
        "usage_reviewed": facts.usage_reviewed_at,
        "production_review": facts.production_approved_at,
        "production": max(live) if all(live) else None,
    }


def lane_step(lane: Lane) -> str | None:
    """The path step a lane belongs to; None for "Live", where nothing is left."""
    if lane.key == "live":
        return None
    return LANE_STEPS.get(lane.key) or (
        "production_review" if lane.key.startswith("review_") else None)


def workspace_path(view: WorkspaceView) -> WorkspacePath:
    """One workspace's steps for this viewer: its lane decides the current one."""
    facts = view.facts
    lane = next_lane(facts, view.roles, view.mfa)
    at = lane_step(lane)
    steps = []
    for key, label in WORKSPACE_STEPS.items():
        done_at = _done_at(facts)[key]
        if key == at and lane.yours:
            steps.append(PathStep(key, label, "current", title=lane.title,
                                  sentence=lane.sentence, button=lane.button,
                                  url_name=lane.url_name, url_args=lane.url_args,
                                  query=lane.query))
        elif key == at:
            steps.append(PathStep(key, label, "waiting", title=lane.title,
                                  sentence=lane.sentence, waiting_on=lane.owner))
        elif done_at is not None:
            steps.append(PathStep(key, label, "done", done_at))
        else:
            steps.append(PathStep(key, label, "ahead"))
    return WorkspacePath(facts.organization_name, facts.organization_slug,
                         facts.workspace_name, facts.workspace_slug, lane, tuple(steps))


def operator_path(facts: AccessFacts, moments: AccountMoments,
                  workspaces: tuple[WorkspaceView, ...] = ()) -> OperatorPath:
    """The person's whole path: the account's steps, then each workspace's."""
    return OperatorPath(
        _account_steps(facts, moments),
        tuple(workspace_path(view) for view in workspaces),
        () if workspaces else tuple(PathStep(key, label, "ahead")
                                    for key, label in WORKSPACE_STEPS.items()))
