"""The next lane: from a workspace's facts and the viewer's roles to one next step.

Pure: no database, no request. The facts it takes are the dataclasses below;
onboarding/facts.py loads them. Every signed-in page shows the result as a banner and
the workspace overview shows the whole checklist.
"""

from dataclasses import dataclass
from datetime import datetime

from onboarding.review.catalog import STAGES, named_owner
from workspaces.roles import Role, capabilities_of, roles_with

# Review stages the owner still has to act on; the others wait on a reviewer or are done.
ACTIONABLE = ("not_started", "in_progress", "changes_requested")
STATUS_LABELS = {"not_started": "Not started", "in_progress": "In progress",
                 "submitted": "Submitted", "changes_requested": "Changes requested",
                 "approved": "Approved"}


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
    sandbox_approved_at: datetime | None = None
    first_key_at: datetime | None = None
    first_call_at: datetime | None = None
    webhook_acknowledged_at: datetime | None = None
    usage_reviewed_at: datetime | None = None
    production_approved_at: datetime | None = None
    review_started_at: datetime | None = None
    review_stages: tuple[tuple[str, str], ...] = ()  # (kind, status) once started
    people: tuple[Person, ...] = ()
    # After the last approval: the production milestones.
    first_live_key_at: datetime | None = None
    first_live_call_at: datetime | None = None  # the first successful call the gateway reported
    production_webhook_at: datetime | None = None
    live_keys: int = 0  # active production keys
    # Every role some active member of the organization holds; None: read it off `people`
    # (which is capped at a few dozen people, so facts.py loads this separately).
    roles_held: frozenset[str] | None = None
    roles_invited: frozenset[str] = frozenset()  # roles of the pending invitations

    @property
    def sandbox_approved(self) -> bool:
        return self.sandbox_approved_at is not None or self.sandbox_status == "approved"

    def holds(self, role: str) -> bool:
        """Whether anyone in the organization holds this role."""
        if self.roles_held is not None:
            return role in self.roles_held
        return any(role in person.roles for person in self.people)


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
    stages: tuple["StageLine", ...] = ()  # the production review's, once it started
    # Where the button leads instead when the page shown is already the lane's page.
    alternate: tuple[str, str, tuple[str, ...]] | None = None  # (button, url name, args)
    query: tuple[tuple[str, str], ...] = ()  # added to the button's URL: the form's initial


@dataclass(frozen=True)
class StageLine:
    """One production review stage as the overview and the banner show it."""

    kind: str
    title: str
    status: str
    status_label: str
    owner: str  # "you", names with their role, or the role nobody holds yet
    yours: bool  # the viewer owns it and it is theirs to act on
    waits_on: str  # who the stage waits on now; "" once approved
    missing: tuple[str, ...] = ()  # roles the stage needs that nobody holds yet


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
        (_review_step(facts), facts.production_approved_at),
        (Step("first_live_key", "Issue your first live key",
              "Live keys call the production API. You confirm your password before the "
              "secret is shown, once.", "Issue a live key", "production.manage", "key_list",
              (*ws, "production")),
         facts.first_live_key_at),
        (Step("first_live_call", "See your first live call",
              "Call the production API with the live key; the API gateway reports the call "
              "and it shows on the production usage page.", "Open production usage",
              "usage.read", "usage_environment", (*ws, "production")),
         facts.first_live_call_at),
        (Step("production_webhook", "Connect a production webhook",
              "Add an https endpoint that receives the production events.",
              "Add a production endpoint", "production.manage", "webhook_list",
              (*ws, "production")),
         facts.production_webhook_at),
    ]


def live_summary(facts: WorkspaceFacts) -> str:
    """A short summary of the workspace's production state, for the "Live" lane."""
    keys = f"{facts.live_keys} active live key{'' if facts.live_keys == 1 else 's'}"
    return (f"In production since {facts.production_approved_at:%d %b %Y}: {keys}, first live "
            f"call on {facts.first_live_call_at:%d %b %Y}, a production webhook connected.")


def _review_step(facts: WorkspaceFacts) -> Step:
    ws = (facts.organization_slug, facts.workspace_slug)
    if not facts.review_stages:
        return Step("production_review", "Start the production review",
                    "Consent review, billing setup, integration verification and audit-ready "
                    "checks.", "Start the production review", "review.submit",
                    "review_overview", ws)
    approved = sum(1 for _, status in facts.review_stages if status == "approved")
    return Step("production_review", "Production review",
                f"{approved} of {len(STAGES)} stages approved.", "Open the production review",
                "review.submit", "review_overview", ws)


def review_progress(facts: WorkspaceFacts) -> str:
    """The review's status in a few words, for the workspace navigation."""
    if facts.production_approved_at is not None:
        return "Approved"
    if not facts.review_stages:
        return "Not started"
    approved = sum(1 for _, status in facts.review_stages if status == "approved")
    return f"{approved} of {len(STAGES)} approved"


def _roles_for(capability: str) -> list[str]:
    """The roles that grant a capability, the narrowest first: a Developer owns sandbox
    work before an Owner does."""
    return sorted((r.value for r in roles_with(capability)), key=lambda r: r == Role.OWNER)


def _holders(facts: WorkspaceFacts, roles) -> str:
    """Up to two people holding one of the roles, the first role's holders first; "" if
    nobody holds any."""
    ranked = []
    for person in facts.people:
        held = [role for role in roles if role in person.roles]
        if held:
            ranked.append((roles.index(held[0]),
                           f"{person.name} ({Role(held[0]).label.lower()})"))
    return ", ".join(name for _, name in sorted(ranked, key=lambda pair: pair[0])[:2])


def _nobody(roles) -> str:
    return f"a {Role(roles[0]).label.lower()}, and nobody holds that role yet"


def _owner(facts, capability, viewer_roles) -> tuple[bool, str]:
    if capability in capabilities_of(viewer_roles):
        return True, "you"
    roles = _roles_for(capability)
    return False, _holders(facts, roles) or _nobody(roles)


# Review checks that pass only once someone in the organization holds a role.
ROLE_CHECKS = {"billing_contact": Role.BILLING_CONTACT, "security_owner": Role.SECURITY_OWNER,
               "compliance_contact": Role.COMPLIANCE}


def _a(label: str) -> str:
    return f"{'an' if label[0] in 'AEIOU' else 'a'} {label}"


def missing_roles(facts: WorkspaceFacts, stage) -> tuple[str, ...]:
    """The roles a review stage needs that nobody in the organization holds: its named
    owner when an Owner may not fill it in instead, and the roles its checks ask for."""
    needed = [] if stage.owner_too or any(facts.holds(r) for r in stage.owner_roles) \
        else list(stage.owner_roles[:1])
    needed += [ROLE_CHECKS[check] for check in stage.checks if check in ROLE_CHECKS]
    return tuple(dict.fromkeys(r.value for r in needed if not facts.holds(r)))


def _missing_line(facts: WorkspaceFacts, missing, viewer_roles) -> tuple[tuple[str, ...], str]:
    """(roles still to invite, who the stage waits on) for a stage missing roles: an
    invited role waits on its invitee accepting; another on an Owner inviting one."""
    to_invite = tuple(r for r in missing if r not in facts.roles_invited)
    if not to_invite:
        return (), f"the invited {Role(missing[0]).label} to accept"
    who = ("you" if "members.manage" in capabilities_of(viewer_roles) else
           _holders(facts, [Role.OWNER]) or "an Owner")
    return to_invite, f"{who} to invite {_a(Role(to_invite[0]).label)}"


def _invite_lane(facts: WorkspaceFacts, line: "StageLine", lines) -> Lane:
    """An Owner's lane when a stage needs a role nobody holds: invite one, the invitation
    form prefilled with that role."""
    labels = [Role(r).label for r in line.missing]
    needs = " and ".join(_a(label) for label in labels)
    return Lane(f"review_invite_{line.missing[0]}", f"Invite {_a(labels[0])}",
                f"{line.title} needs {needs}; nobody in {facts.organization_name} holds "
                f"{'that role' if len(labels) == 1 else 'those roles'} yet.",
                f"Invite {_a(labels[0])}", "invitations", (facts.organization_slug,),
                yours=True, owner="you", stages=lines, query=(("role", line.missing[0]),))


def review_lines(facts: WorkspaceFacts, viewer_roles) -> tuple[StageLine, ...]:
    """Every stage of the production review with its owner and status; empty until the
    review starts."""
    if not facts.review_stages:
        return ()
    statuses = dict(facts.review_stages)
    lines = []
    for stage in STAGES:
        status = statuses.get(stage.kind) or "not_started"
        if stage.by_portal:
            mine, owner, waiting = False, "the portal, from sandbox activity", \
                "its sandbox checks"
        else:
            # The named owners first; an Owner fills in a stage nobody else holds.
            named = _holders(facts, stage.owner_roles)
            mine = named_owner(stage.kind, viewer_roles) or (
                stage.owner_too and Role.OWNER in viewer_roles and not named)
            owner = "you" if mine else (named or _holders(facts, stage.submitters)
                                         or _nobody(stage.owner_roles))
            waiting = owner
        missing = missing_roles(facts, stage) if status in ACTIONABLE else ()
        if missing:
            missing, waiting = _missing_line(facts, missing, viewer_roles)
            # An Owner's part is to invite; a named owner still fills in what they can.
            mine = mine and not (missing and "members.manage" in capabilities_of(viewer_roles))
        waits_on = ("" if status == "approved" else
                    "a platform reviewer" if status == "submitted" else waiting)
        lines.append(StageLine(stage.kind, stage.title, status, STATUS_LABELS[status], owner,
                               mine and status in ACTIONABLE, waits_on, missing))
    return tuple(lines)


def _review_lane(facts: WorkspaceFacts, viewer_roles, viewer_mfa: bool) -> Lane:
    ws = (facts.organization_slug, facts.workspace_slug)
    lines = review_lines(facts, viewer_roles)
    audit = dict(facts.review_stages).get("audit")
    if not viewer_mfa and audit != "approved" and (
            Role.OWNER in viewer_roles or Role.TECHNICAL_LEAD in viewer_roles):
        return Lane("review_mfa", "Turn on two-factor authentication",
                    "The audit-ready checks wait on your two-factor authentication: every "
                    "Owner and Technical lead needs it on.", "Turn on two-factor "
                    "authentication", "mfa_index", (), yours=True, owner="you", stages=lines)
    can_invite = "members.manage" in capabilities_of(viewer_roles)
    for line in lines:
        # A stage nobody can complete comes first for an Owner: inviting takes days.
        if line.missing and can_invite:
            return _invite_lane(facts, line, lines)
        if line.yours:
            sentence = ("A platform reviewer asked for changes: edit the fields they named and "
                        "resubmit." if line.status == "changes_requested" else
                        "This stage is yours to do; the other stages are listed below.")
            return Lane(f"review_{line.kind}", f"{line.title}: yours to do", sentence,
                        f"Open {line.title.lower()}", "review_stage", (*ws, line.kind),
                        yours=True, owner="you", stages=lines)
    waiting = [line for line in lines if line.waits_on]
    sentence = "Production review is waiting on " + "; ".join(
        f"{line.waits_on} for {line.title.lower()}" for line in waiting) + "."
    return Lane("production_review", "Production review in progress", sentence,
                "Open the production review", "review_overview", ws, yours=False,
                owner=waiting[0].waits_on if waiting else "a platform reviewer", stages=lines)


def next_lane(facts: WorkspaceFacts, viewer_roles, viewer_mfa: bool = True) -> Lane:
    """The single next step for this viewer in this workspace (`viewer_mfa`: whether the
    viewer has two-factor authentication on, which the audit-ready checks need)."""
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
        if done_at is None and step.key == "production_review" and facts.review_stages:
            return _review_lane(facts, viewer_roles, viewer_mfa)
        if done_at is None:
            yours, owner = _owner(facts, step.capability, viewer_roles)
            sentence = step.sentence if yours else \
                f"{step.title} is waiting on {owner}."
            return Lane(step.key, step.title, sentence, step.button, step.url_name,
                        step.url_args, yours=yours, owner=owner)
    return Lane("live", "Live", live_summary(facts), "Open production usage",
                "usage_environment", (*ws, "production"), yours=True, owner="you",
                alternate=("Open the workspace overview", "workspace_overview", ws))


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
