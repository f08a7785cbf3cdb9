"""The next lane: from a workspace's facts and the viewer's roles to one next step.

Pure: no database, no request. Every signed-in page shows the result as a banner and
the workspace overview shows the whole checklist.
"""

from dataclasses import dataclass
from datetime import datetime

from onboarding.facts import WorkspaceFacts
from workspaces.roles import Role, capabilities_of, roles_with


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    sentence: str
    button: str
    capability: str
    url_name: str
    url_args: tuple[str, ...] = ()


@dataclass(frozen=True)
class Lane:
    """What the banner shows."""

    key: str
    title: str
    sentence: str
    button: str
    url_name: str
    url_args: tuple[str, ...]
    yours: bool
    owner: str  # "you", a name with its role, "a platform reviewer", or who can invite


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    title: str
    status: str  # done | current | waiting | upcoming
    done_at: datetime | None
    owner: str
    url_name: str
    url_args: tuple[str, ...]


def _steps(facts: WorkspaceFacts) -> list[tuple[Step, datetime | None]]:
    ws = (facts.organization_slug, facts.workspace_slug)
    return [
        (Step("request_sandbox", "Request sandbox access",
              "Tell us what you are building; sandbox access unlocks test keys and fake data.",
              "Request sandbox access", "sandbox.manage", "sandbox_request", ws),
         (facts.sandbox_approved_at or facts.sandbox_decided_at) if facts.sandbox_approved
         else None),
        (Step("first_key", "Issue your first sandbox key",
              "The secret is shown once: copy it into your app's configuration.",
              "Issue a sandbox key", "sandbox.manage", "key_list", (*ws, "sandbox")),
         facts.first_key_at),
        (Step("first_call", "Make your first API call",
              "Call the sandbox API with your key; the call shows up in usage within seconds.",
              "Watch for your first call", "sandbox.manage", "usage", ws),
         facts.first_call_at),
        (Step("webhook", "Connect a webhook endpoint",
              "Add an endpoint and acknowledge a test event with a 2xx response.",
              "Add a webhook endpoint", "sandbox.manage", "webhook_list", (*ws, "sandbox")),
         facts.webhook_acknowledged_at),
        (Step("review_usage", "Review your usage",
              "Check requests, errors and latency by key and endpoint.",
              "Review usage", "usage.read", "usage", ws),
         facts.usage_reviewed_at),
        (Step("production_review", "Start the production review",
              "Consent review, billing setup, integration verification and audit-ready checks.",
              "Read about production", "review.submit", "docs:page",
              ("sandbox-and-production",)),
         facts.production_approved_at),
    ]


def _holders(facts: WorkspaceFacts, capability: str) -> tuple[str, list[str]]:
    """Names with their first qualifying role, and the qualifying role labels."""
    roles = [r.value for r in roles_with(capability)]
    # Name the narrowest role first: a Developer owns sandbox work before an Owner does.
    preference = sorted(roles, key=lambda r: r == Role.OWNER)
    ranked = []
    for person in facts.people:
        held = [r for r in preference if r in person.roles]
        if held:
            ranked.append((preference.index(held[0]),
                           f"{person.name} ({Role(held[0]).label.lower()})"))
    names = [name for _, name in sorted(ranked, key=lambda pair: pair[0])]
    return ", ".join(names[:2]), [Role(r).label for r in preference]


def _owner(facts, capability, viewer_roles) -> tuple[bool, str]:
    if capability in capabilities_of(viewer_roles):
        return True, "you"
    names, labels = _holders(facts, capability)
    if names:
        return False, names
    return False, f"a {labels[0].lower()}, and nobody holds that role yet"


def _invite_instead(facts, capability, viewer_roles, step: Step) -> Lane | None:
    """Nobody can take the step: Owners are offered to invite someone, others told who can."""
    if _holders(facts, capability)[0]:
        return None
    role = _holders(facts, capability)[1][0].lower()
    if "members.manage" in capabilities_of(viewer_roles):
        return Lane(step.key, step.title, f"{step.title} needs a {role}; nobody holds that "
                    "role yet.", f"Invite a {role}", "invitations", (facts.organization_slug,),
                    yours=True, owner="you")
    return Lane(step.key, step.title, f"{step.title} needs a {role}; nobody holds that role "
                "yet. An Owner of the organization can invite one.", "See the organization",
                "organization_home", (facts.organization_slug,), yours=False,
                owner=f"an Owner to invite a {role}")


def next_lane(facts: WorkspaceFacts, viewer_roles) -> Lane:
    """The single next step for this viewer in this workspace."""
    ws = (facts.organization_slug, facts.workspace_slug)
    if facts.sandbox_status == "pending":
        return Lane("sandbox_pending", "Sandbox access is being reviewed",
                    f"Requested on {facts.sandbox_requested_at:%d %b %Y}. A platform reviewer "
                    "decides; you will get an email.", "View request", "sandbox_request", ws,
                    yours=False, owner="a platform reviewer")
    if facts.sandbox_status == "denied":
        yours, owner = _owner(facts, "sandbox.manage", viewer_roles)
        return Lane("sandbox_denied", "Sandbox access was denied",
                    f"Reason: {facts.sandbox_reason} Change the request and resubmit it.",
                    "Change and resubmit", "sandbox_request", ws, yours=yours, owner=owner)
    for step, done_at in _steps(facts):
        if done_at is None:
            yours, owner = _owner(facts, step.capability, viewer_roles)
            if not yours:
                invite = _invite_instead(facts, step.capability, viewer_roles, step)
                if invite:
                    return invite
            sentence = step.sentence if yours else \
                f"{step.title} is waiting on {owner}."
            return Lane(step.key, step.title, sentence, step.button, step.url_name,
                        step.url_args, yours=yours, owner=owner)
    return Lane("production", "Live in production",
                "Production keys and webhooks are available.", "Open workspace",
                "workspace_overview", ws, yours=True, owner="you")


def checklist(facts: WorkspaceFacts, viewer_roles) -> list[ChecklistItem]:
    """Every lane in order with its status, for the workspace overview."""
    items, current_found = [], False
    for step, done_at in _steps(facts):
        _, owner = _owner(facts, step.capability, viewer_roles)
        if done_at is not None:
            status = "done"
        elif current_found:
            status = "upcoming"
        else:
            current_found = True
            status = "waiting" if step.key == "request_sandbox" and \
                facts.sandbox_status == "pending" else "current"
            if status == "waiting":
                owner = "a platform reviewer"
        items.append(ChecklistItem(step.key, step.title, status, done_at, owner,
                                   step.url_name, step.url_args))
    return items


def progress(items: list[ChecklistItem]) -> tuple[int, int]:
    """(done, total) for the progress indicator."""
    return sum(1 for i in items if i.status == "done"), len(items)
