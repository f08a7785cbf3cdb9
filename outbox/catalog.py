"""The event types a webhook endpoint can subscribe to, with an example of each payload.

Pure data: the endpoint form offers these, the outbox refuses anything else, and the
documentation's event list and examples are checked against this table.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class EventType:
    type: str
    description: str
    example: dict = field(default_factory=dict)


CATALOG: tuple[EventType, ...] = (
    EventType("key.created", "An API key was issued or rotated in.",
              {"key_id": "key_8Tq2mD0vX1", "name": "web app", "environment": "sandbox",
               "scopes": ["accounts:read"], "replaces": None}),
    EventType("key.revoked", "An API key was revoked; calls with it now fail.",
              {"key_id": "key_8Tq2mD0vX1", "name": "web app", "environment": "sandbox"}),
    EventType("sandbox.approved", "Sandbox access was granted to the workspace.",
              {"workspace": "payouts", "decided_at": "2026-01-01T00:00:00+00:00"}),
    EventType("sandbox.denied", "A sandbox access request was denied, with the reason.",
              {"workspace": "payouts", "decided_at": "2026-01-01T00:00:00+00:00",
               "reason": "Describe the use case in more detail."}),
    EventType("production.approved", "All four production review stages were approved; "
              "production keys and webhooks are available.",
              {"workspace": "payouts", "approved_at": "2026-01-01T00:00:00+00:00"}),
    EventType("key.expiring", "An API key expires within 7 days; issue its replacement.",
              {"key_id": "key_8Tq2mD0vX1", "name": "web app", "environment": "sandbox",
               "expires_at": "2026-01-08T00:00:00+00:00"}),
    EventType("member.joined", "Someone joined the workspace's organization.",
              {"organization": "acme", "email": "ada@acme.example", "roles": ["developer"]}),
    EventType("member.removed", "Someone left or was removed from the organization.",
              {"organization": "acme", "email": "ada@acme.example", "roles": ["developer"],
               "left": False}),
    EventType("review.stage_decided", "A platform reviewer decided a production review "
              "stage, with the decision and the reviewer's notes.",
              {"workspace": "payouts", "stage": "consent", "decision": "changes_requested",
               "notes": "The terms page must mention data retention.",
               "changes": {"terms_url": "Link the page that names the retention period."},
               "decided_at": "2026-01-01T00:00:00+00:00"}),
    EventType("webhook.test", "A test event sent from the Webhooks page.",
              {"message": "Hello from the sandbox"}),
)

TYPES: dict[str, EventType] = {event.type: event for event in CATALOG}
CHOICES = [(event.type, f"{event.type} — {event.description}") for event in CATALOG]


def is_known(event_type: str) -> bool:
    return event_type in TYPES
