"""Reading the audit log: filters, readable sentences and streaming exports.

Takes the scope (an organization or a workspace) as an argument; imports none of our
other apps.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from audit.models import Action, AuditEvent
from audit.spreadsheet import csv_chunks

# Kinds for the filter: the part of the action code before the dot.
KINDS = {
    "account": "Sign-in and account",
    "organization": "Organization",
    "workspace": "Workspaces",
    "member": "Members and invitations",
    "sandbox": "Sandbox access",
    "audit": "Audit log",
    "key": "API keys",
    "webhook": "Webhooks",
}
EXPORT_FIELDS = ["occurred_at", "action", "actor_email", "organization", "workspace",
                 "target_type", "target_id", "ip_address", "user_agent", "details"]


@dataclass(frozen=True)
class Filters:
    kind: str = ""
    actor: str = ""
    since: date | None = None
    until: date | None = None


def filtered(events, filters: Filters):
    """Apply the timeline's filters to a queryset of events."""
    if filters.kind in KINDS:
        events = events.filter(action__startswith=f"{filters.kind}.")
    if filters.actor:
        events = events.filter(actor__email__iexact=filters.actor.strip())
    if filters.since:
        events = events.filter(occurred_at__gte=datetime.combine(
            filters.since, time.min, tzinfo=timezone.get_current_timezone()))
    if filters.until:
        events = events.filter(occurred_at__lt=datetime.combine(
            filters.until + timedelta(days=1), time.min,
            tzinfo=timezone.get_current_timezone()))
    return events


def sentence(event: AuditEvent) -> str:
    """A readable line: who did what, with the detail that matters."""
    who = event.actor.display_name if event.actor_id else "The platform"
    what = event.action_label
    details = event.details or {}
    extra = details.get("email") or details.get("name") or details.get("domain") or ""
    if event.action == Action.ROLES_CHANGED:
        extra = f"{details.get('email')}: {', '.join(details.get('to', []))}"
    if details.get("reason"):
        extra = f"{extra} (reason: {details['reason']})".strip()
    if details.get("by") == "policy":
        who = "The approval policy"
    return f"{who}: {what[0].lower()}{what[1:]}" + (f" — {extra}" if extra else "")


def _rows(events) -> Iterator[dict]:
    values = events.order_by("occurred_at", "id").values_list(
        "occurred_at", "action", "actor__email", "organization__slug", "workspace__slug",
        "target_type", "target_id", "ip_address", "user_agent", "details")
    for row in values.iterator(chunk_size=2000):
        yield dict(zip(EXPORT_FIELDS, row, strict=True))


def export_csv(events) -> Iterator[str]:
    """CSV chunks, never the whole log in memory; cells a spreadsheet would run are quoted."""
    for_csv = (
        {**row, "occurred_at": row["occurred_at"].isoformat(),
         "details": json.dumps(row["details"], sort_keys=True)}
        for row in _rows(events)
    )
    return csv_chunks(EXPORT_FIELDS, (row.values() for row in for_csv))


def export_jsonl(events) -> Iterator[str]:
    """JSON Lines, one event a line."""
    for row in _rows(events):
        row["occurred_at"] = row["occurred_at"].isoformat()
        yield json.dumps(row, sort_keys=True) + "\n"
