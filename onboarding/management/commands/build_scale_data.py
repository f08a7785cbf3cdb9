"""`manage.py build_scale_data [--factor F]`: a large data set for benchmarks, by COPY.

At factor 1: 10,000 organizations, 20,000 workspaces, 100,000 memberships (each its own
user), 1,000,000 keys, 10,000,000 usage calls, 1,000,000 audit events and 1,000,000
webhook attempts (500,000 events, each delivered once and attempted twice). A smaller
factor scales every count (at least one of each), so tests build it at a tiny size.

One organization is large: it holds 1% of the memberships and workspaces, 10% of the
audit events, and its first workspace ("main") holds 0.1% of the keys, 10% of the calls
and 10% of the webhook attempts, on one endpoint. The owner of that organization is the
person benchmarks sign in as. Everything else is spread evenly, so the tables are as big
as a portal a hundred times today's. Rows are written with explicit ids after the
current ones, so the command adds to a database that already has data, and the
sequences are moved past them. Calls are rolled up at the end, as beat would.
"""

import itertools
import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from audit.models import Action, AuditEvent
from keys.models import ApiKey, Scope
from usage import services as usage_services
from webhooks.models import Attempt, Delivery, Endpoint, Event
from workspaces.models import Membership, Organization, Workspace
from workspaces.roles import Role

FULL = {
    "organizations": 10_000, "workspaces": 20_000, "memberships": 100_000,
    "keys": 1_000_000, "calls": 10_000_000, "audit_events": 1_000_000,
    "webhook_attempts": 1_000_000,
}
CALL_DAYS = 29  # inside the 30 days usage reports may still reopen
ENDPOINTS = (("GET", "/v1/accounts"), ("GET", "/v1/transactions"),
             ("POST", "/v1/transactions"), ("GET", "/v1/ping"))
ROLES = ([Role.DEVELOPER], [Role.VIEWER], [Role.TECHNICAL_LEAD], [Role.SECURITY_OWNER],
         [Role.COMPLIANCE], [Role.BILLING_CONTACT], [Role.DEVELOPER, Role.VIEWER])
ACTIONS = [action.value for action in Action]
EVENT_TYPES = ("key.created", "key.revoked", "usage.threshold_reached")


@dataclass(frozen=True)
class ScaleData:
    """What a benchmark needs to find its way into the data set."""

    owner_email: str
    organization_slug: str
    workspace_slug: str
    endpoint_public_id: str
    counts: dict[str, int]


def counts_for(factor: float) -> dict[str, int]:
    """Every count of FULL times factor, at least one of each."""
    if not 0 < factor <= 1:
        raise ValueError("factor must be in (0, 1]")
    return {name: max(1, round(full * factor)) for name, full in FULL.items()}


def _share(total: int, fraction: float) -> int:
    return max(1, int(total * fraction))


class _Ids:
    """Explicit ids after the table's current ones; sequences are moved past them."""

    def __init__(self, model):
        self.table = model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT coalesce(max(id), 0) FROM {self.table}")  # noqa: S608
            (self.first,) = cursor.fetchone()
        self.first += 1

    def __getitem__(self, index: int) -> int:
        return self.first + index


def _defaults(model, columns: tuple[str, ...]) -> tuple[tuple[str, ...], tuple]:
    """The columns a row leaves out that the model fills with a default (COPY sees no
    Python defaults), and their values: a field added later needs no change here."""
    extra = [(field.column, field.get_default()) for field in model._meta.concrete_fields
             if field.column not in columns and not field.primary_key and not field.null
             and field.has_default()]
    return (tuple(column for column, _ in extra),
            tuple(json.dumps(value) if isinstance(value, dict) else value
                  for _, value in extra))


def _copy(model, columns: tuple[str, ...], rows: Iterable[tuple]) -> int:
    table = model._meta.db_table
    extra_columns, extra_values = _defaults(model, columns)
    loaded = 0
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY {table} ({', '.join(columns + extra_columns)}) "
                         "FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row + extra_values)
                loaded += 1
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                       f"(SELECT max(id) FROM {table}))")
        cursor.execute(f"ANALYZE {table}")
    return loaded


class _Plan:
    """Who belongs where: member m, workspace w and organization o by index."""

    def __init__(self, factor: float, now: datetime):
        from accounts.models import User

        self.n = counts_for(factor)
        self.now = now
        self.tag = uuid.uuid4().hex[:6]
        self.users, self.orgs = _Ids(User), _Ids(Organization)
        self.memberships, self.workspaces = _Ids(Membership), _Ids(Workspace)
        self.large_members = _share(self.n["memberships"], 0.01)
        self.large_workspaces = _share(self.n["workspaces"], 0.01)
        self.owner_email = f"scale-{self.tag}-owner@example.com"

    def _spread(self, index: int, large: int) -> int:
        if index < large or self.n["organizations"] == 1:
            return 0
        return 1 + (index - large) % (self.n["organizations"] - 1)

    def org_of_member(self, m: int) -> int:
        return self._spread(m, self.large_members)

    def org_of_workspace(self, w: int) -> int:
        return self._spread(w, self.large_workspaces)

    def owner_of(self, o: int) -> int:
        """The member index of an organization's owner (its first member)."""
        first = 0 if o == 0 else self.large_members + o - 1
        return min(first, self.n["memberships"] - 1)

    def slug(self, o: int) -> str:
        return f"scale-{self.tag}-{o}"


def _people(plan: _Plan) -> Iterator[tuple]:
    for m in range(plan.n["memberships"]):
        yield (plan.users[m], "!scale", plan.owner_email if m == 0 else
               f"scale-{plan.tag}-{m}@example.com", f"Scale Person {m}", False, False, True,
               plan.now - timedelta(days=60))


def _organizations(plan: _Plan) -> Iterator[tuple]:
    for o in range(plan.n["organizations"]):
        yield (plan.orgs[o], f"Scale {plan.tag} {o}", plan.slug(o), plan.users[plan.owner_of(o)],
               plan.now - timedelta(days=60), "")


def _member_rows(plan: _Plan) -> Iterator[tuple]:
    for m in range(plan.n["memberships"]):
        o = plan.org_of_member(m)
        roles = [Role.OWNER] if m == plan.owner_of(o) else ROLES[m % len(ROLES)]
        yield (plan.memberships[m], plan.users[m], plan.orgs[o], roles, False, True,
               plan.now - timedelta(days=59))


def _workspace_rows(plan: _Plan) -> Iterator[tuple]:
    for w in range(plan.n["workspaces"]):
        o = plan.org_of_workspace(w)
        yield (plan.workspaces[w], plan.orgs[o], f"App {w}", f"app-{w}",
               plan.users[plan.owner_of(o)], plan.now - timedelta(days=58),
               plan.now - timedelta(days=57))


def _key_rows(plan: _Plan, keys: _Ids, main_keys: int) -> Iterator[tuple]:
    """Keys 0..main_keys-1 belong to the main workspace; the rest go round the others."""
    others = max(1, plan.n["workspaces"] - 1)
    for k in range(plan.n["keys"]):
        w = 0 if k < main_keys or plan.n["workspaces"] == 1 else 1 + (k - main_keys) % others
        o = plan.org_of_workspace(w)
        environment = "production" if k % 10 == 9 else "sandbox"
        # A workspace holds ten active keys at most: the rest were rotated away.
        active = k < 10 if w == 0 else k - main_keys < others
        created = plan.now - timedelta(days=56, seconds=k)
        yield (keys[k], plan.workspaces[w], f"{plan.slug(o)}/app-{w}", environment,
               f"Key {k}", f"key_s{plan.tag}{k:09d}", f"{plan.tag}{keys[k]:058x}",
               "sk_live_" if environment == "production" else "sk_sandbox_",
               f"{k % 10000:04d}", [Scope.ACCOUNTS_READ], plan.users[plan.owner_of(o)],
               created, None if active else created + timedelta(days=1))


def _call_rows(plan: _Plan, keys: _Ids, main_keys: int) -> Iterator[tuple]:
    """10% of the calls are the main workspace's, made with its first three sandbox keys
    over CALL_DAYS; each other workspace makes its calls with its first key, within one
    hour of those days (so rollups hold a few rows per workspace, as real traffic would,
    not one per call). Cheap arithmetic, not random."""
    total, hours = plan.n["calls"], CALL_DAYS * 24
    main_calls = _share(total, 0.1)
    main_sandbox = [k for k in range(main_keys) if k % 10 != 9][:3] or [0]
    others = max(1, plan.n["workspaces"] - 1)
    start = (plan.now - timedelta(hours=hours)).replace(minute=0, second=0, microsecond=0)
    for c in range(total):
        if c < main_calls or plan.n["workspaces"] == 1:
            w, k = 0, main_sandbox[c % len(main_sandbox)]
            offset = (c * 7919) % (hours * 3600)
        else:
            w = 1 + (c - main_calls) % others
            k = min(main_keys + w - 1, plan.n["keys"] - 1)
            offset = (w % hours) * 3600 + (c * 7919) % 3600
        method, path = ENDPOINTS[(c * 7) % len(ENDPOINTS)]
        roll = (c * 37) % 100
        status = 200 if roll < 90 else 404 if roll < 97 else 500
        yield (plan.workspaces[w], keys[k], "production" if k % 10 == 9 else "sandbox", path,
               method, status, 5 + (c * 13) % 400, f"req_s{plan.tag}_{c}",
               min(start + timedelta(seconds=offset), plan.now))


def _audit_rows(plan: _Plan) -> Iterator[tuple]:
    """10% of the events are the large organization's, by its members."""
    total = plan.n["audit_events"]
    large = _share(total, 0.1)
    for e in range(total):
        if e < large:
            m = e % plan.large_members
        else:
            m = plan.large_members + (e - large) % max(
                1, plan.n["memberships"] - plan.large_members)
            m = min(m, plan.n["memberships"] - 1)
        o = plan.org_of_member(m)
        yield (plan.now - timedelta(seconds=(e * 31) % (90 * 86400)), plan.users[m],
               ACTIONS[e % len(ACTIONS)], plan.orgs[o], None, "membership", str(e),
               "scale-data", "", "{}")


def _webhook_rows(plan: _Plan, step) -> str:
    """One endpoint per workspace; events delivered once each, attempted twice (a 500,
    then a 200). 10% of them on the main workspace's endpoint. Its public id."""
    endpoints, events, deliveries = _Ids(Endpoint), _Ids(Event), _Ids(Delivery)
    n_endpoints = plan.n["workspaces"]
    n_events = max(1, plan.n["webhook_attempts"] // 2)
    main_events = _share(n_events, 0.1)
    others = max(1, n_endpoints - 1)

    def endpoint_of(e: int) -> int:
        return 0 if e < main_events or n_endpoints == 1 else 1 + (e - main_events) % others

    def moment(e: int) -> datetime:
        return plan.now - timedelta(seconds=(e * 17) % (30 * 86400))

    step("webhook endpoints", lambda: _copy(Endpoint, (
        "id", "workspace_id", "environment", "public_id", "url", "description", "event_types",
        "secret_encrypted", "previous_secret_encrypted", "enabled", "disabled_reason",
        "created_by_id", "created_at", "updated_at"), (
        (endpoints[p], plan.workspaces[p], "sandbox", f"ep_s{plan.tag}{p:09d}",
         f"https://hooks.example.com/{p}", "Scale data", list(EVENT_TYPES), "", "", True, "",
         plan.users[plan.owner_of(plan.org_of_workspace(p))], plan.now - timedelta(days=50),
         plan.now - timedelta(days=50))
        for p in range(n_endpoints))))
    step("webhook events", lambda: _copy(Event, (
        "id", "workspace_id", "environment", "public_id", "type", "data", "created_at",
        "dispatched_at"), (
        (events[e], plan.workspaces[endpoint_of(e)], "sandbox", f"msg_s{plan.tag}{e:010d}",
         EVENT_TYPES[e % len(EVENT_TYPES)], '{"scale": true}', moment(e), moment(e))
        for e in range(n_events))))
    step("webhook deliveries", lambda: _copy(Delivery, (
        "id", "event_id", "endpoint_id", "kind", "status", "attempt_count", "last_attempt_at",
        "created_at"), (
        (deliveries[e], events[e], endpoints[endpoint_of(e)], "original", "succeeded", 2,
         moment(e) + timedelta(seconds=31), moment(e))
        for e in range(n_events))))
    step("webhook attempts", lambda: _copy(Attempt, (
        "delivery_id", "number", "attempted_at", "status_code", "latency_ms", "error",
        "response_excerpt"), itertools.chain.from_iterable(
        ((deliveries[e], 1, moment(e) + timedelta(seconds=1), 500, 120, "", "busy"),
         (deliveries[e], 2, moment(e) + timedelta(seconds=31), 200, 40, "", "ok"))
        for e in range(n_events))))
    return f"ep_s{plan.tag}{0:09d}"


def build(factor: float, *, log=lambda message: None, now: datetime | None = None) -> ScaleData:
    """Write the data set at `factor` and roll its calls up; where to find the large
    organization. One transaction per table, so a failure leaves whole tables."""
    from accounts.models import User

    plan = _Plan(factor, now or timezone.now())

    def step(name: str, fn) -> None:
        began = timezone.now()
        with transaction.atomic():
            loaded = fn()
        log(f"{name}: {loaded:,} rows in {(timezone.now() - began).total_seconds():.1f} s")

    step("users", lambda: _copy(User, (
        "id", "password", "email", "full_name", "is_superuser", "is_staff", "is_active",
        "date_joined"), _people(plan)))
    step("organizations", lambda: _copy(Organization, (
        "id", "name", "slug", "created_by_id", "created_at", "suspension_reason"),
        _organizations(plan)))
    step("memberships", lambda: _copy(Membership, (
        "id", "user_id", "organization_id", "roles", "restricted", "is_active", "joined_at"),
        _member_rows(plan)))
    step("workspaces", lambda: _copy(Workspace, (
        "id", "organization_id", "name", "slug", "created_by_id", "created_at",
        "sandbox_approved_at"), _workspace_rows(plan)))
    keys, main_keys = _Ids(ApiKey), _share(plan.n["keys"], 0.001)
    step("keys", lambda: _copy(ApiKey, (
        "id", "workspace_id", "workspace_path", "environment", "name", "public_id",
        "secret_hash", "prefix", "last4", "scopes", "created_by_id", "created_at", "revoked_at"),
        _key_rows(plan, keys, main_keys)))
    step("calls", lambda: usage_services.copy_calls(_call_rows(plan, keys, main_keys)))
    step("audit events", lambda: _copy(AuditEvent, (
        "occurred_at", "actor_id", "action", "organization_id", "workspace_id",
        "target_type", "target_id", "user_agent", "request_id", "details"), _audit_rows(plan)))
    endpoint_public_id = _webhook_rows(plan, step)
    began = timezone.now()
    hours = usage_services.roll_up_usage()
    log(f"rollup: {hours:,} workspace-hours in "
        f"{(timezone.now() - began).total_seconds():.1f} s")
    return ScaleData(plan.owner_email, plan.slug(0), "app-0", endpoint_public_id, plan.n)


class Command(BaseCommand):
    help = "Build a large data set by COPY (10M calls at factor 1) for benchmarks."

    def add_arguments(self, parser):
        parser.add_argument("--factor", type=float, default=1.0,
                            help="scale every count by this, in (0, 1]; default 1")

    def handle(self, *args, factor: float, **options):
        try:
            counts_for(factor)
        except ValueError as error:
            raise CommandError(str(error)) from error
        data = build(factor, log=lambda message: self.stdout.write(f"  {message}"))
        self.stdout.write(self.style.SUCCESS(
            f"Built at factor {factor:g}: " + ", ".join(
                f"{count:,} {name.replace('_', ' ')}" for name, count in data.counts.items())))
        self.stdout.write(f"Large organization /o/{data.organization_slug}/, workspace "
                          f"{data.workspace_slug}, owner {data.owner_email}")
