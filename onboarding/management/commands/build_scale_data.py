"""`manage.py build_scale_data [--factor F]`: a large data set for benchmarks, in minutes.

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

Every table is one INSERT ... SELECT over generate_series: each row is cheap arithmetic
on its index, computed by PostgreSQL, with the table's secondary indexes and foreign
keys built after the load (onboarding/management/bulk.py). At factor 1 that takes a few
minutes on two cores, most of it the 10M calls, their indexes and their rollup.
"""

# S608: the SQL below is assembled from integers formatted with :d and constant
# fragments; every string and time travels as a named parameter.
# ruff: noqa: S608
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from audit.models import Action, AuditEvent
from keys.models import ApiKey, Environment, Scope
from onboarding.management.bulk import Ids, insert_select, work_mem
from usage import services as usage_services
from usage.models import CallRecord
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

    def as_dict(self) -> dict:
        return asdict(self)


def counts_for(factor: float) -> dict[str, int]:
    """Every count of FULL times factor, at least one of each."""
    if not 0 < factor <= 1:
        raise ValueError("factor must be in (0, 1]")
    return {name: max(1, round(full * factor)) for name, full in FULL.items()}


def _share(total: int, fraction: float) -> int:
    return max(1, int(total * fraction))


def _series(count: int, name: str) -> str:
    """Rows 0..count-1 named `name` (bigint: products of indexes pass 2**31)."""
    return f"generate_series(0::bigint, {count - 1:d}) AS {name}"


def _pick(values: list[int], index: str) -> str:
    """values[index % len(values)], in SQL."""
    return f"(ARRAY[{', '.join(str(int(v)) for v in values)}])[mod({index}, {len(values):d}) + 1]"


class _Plan:
    """Who belongs where: member m, workspace w and organization o by index, as SQL
    expressions over those indexes. Strings and times travel as named parameters."""

    def __init__(self, factor: float, now: datetime):
        self.n = counts_for(factor)
        self.tag = uuid.uuid4().hex[:6]
        self.users, self.orgs = Ids(get_user_model()), Ids(Organization)
        self.memberships, self.workspaces = Ids(Membership), Ids(Workspace)
        self.large_members = _share(self.n["memberships"], 0.01)
        self.large_workspaces = _share(self.n["workspaces"], 0.01)
        self.owner_email = f"scale-{self.tag}-owner@example.com"
        self.params = {"now": now, "tag": self.tag, "owner_email": self.owner_email,
                       "sandbox": Environment.SANDBOX.value,
                       "production": Environment.PRODUCTION.value}

    def _spread(self, index: str, large: int) -> str:
        if self.n["organizations"] == 1:
            return "0"
        return (f"(CASE WHEN {index} < {large:d} THEN 0 "
                f"ELSE 1 + mod({index} - {large:d}, {self.n['organizations'] - 1:d}) END)")

    def org_of_member(self, m: str) -> str:
        return self._spread(m, self.large_members)

    def org_of_workspace(self, w: str) -> str:
        return self._spread(w, self.large_workspaces)

    def owner_of(self, o: str) -> str:
        """The user id of an organization's owner (its first member)."""
        first = f"CASE WHEN {o} = 0 THEN 0 ELSE {self.large_members - 1:d} + {o} END"
        return self.users.sql(f"LEAST({first}, {self.n['memberships'] - 1:d})")

    def slug(self, o: str) -> str:
        return f"('scale-' || %(tag)s || '-' || {o})"


def _people(plan: _Plan) -> int:
    return insert_select(get_user_model(), (
        "id", "password", "email", "full_name", "is_superuser", "is_staff", "is_active",
        "date_joined"), f"""
        SELECT {plan.users.sql("m")}, '!scale',
               CASE WHEN m = 0 THEN %(owner_email)s
                    ELSE 'scale-' || %(tag)s || '-' || m || '@example.com' END,
               'Scale Person ' || m, false, false, true, %(now)s - interval '60 days'
               {{defaults}}
        FROM {_series(plan.n["memberships"], "m")}""", plan.params)


def _organizations(plan: _Plan) -> int:
    return insert_select(Organization, (
        "id", "name", "slug", "created_by_id", "created_at", "suspension_reason"), f"""
        SELECT {plan.orgs.sql("o")}, 'Scale ' || %(tag)s || ' ' || o, {plan.slug("o")},
               {plan.owner_of("o")}, %(now)s - interval '60 days', '' {{defaults}}
        FROM {_series(plan.n["organizations"], "o")}""", plan.params)


def _member_rows(plan: _Plan) -> int:
    roles = " ".join(f"WHEN {i:d} THEN %(roles_{i})s::varchar(32)[]" for i in range(len(ROLES)))
    return insert_select(Membership, (
        "id", "user_id", "organization_id", "roles", "restricted", "is_active", "joined_at"), f"""
        SELECT {plan.memberships.sql("m")}, {plan.users.sql("m")}, {plan.orgs.sql("o")},
               CASE WHEN {plan.users.sql("m")} = {plan.owner_of("o")}
                    THEN %(owner_roles)s::varchar(32)[]
                    ELSE CASE mod(m, {len(ROLES):d}) {roles} END END,
               false, true, %(now)s - interval '59 days' {{defaults}}
        FROM (SELECT m, {plan.org_of_member("m")} AS o
              FROM {_series(plan.n["memberships"], "m")}) AS s""", {
        **plan.params, "owner_roles": [Role.OWNER.value],
        **{f"roles_{i}": [role.value for role in r] for i, r in enumerate(ROLES)}})


def _workspace_rows(plan: _Plan) -> int:
    return insert_select(Workspace, (
        "id", "organization_id", "name", "slug", "created_by_id", "created_at",
        "sandbox_approved_at"), f"""
        SELECT {plan.workspaces.sql("w")}, {plan.orgs.sql("o")}, 'App ' || w, 'app-' || w,
               {plan.owner_of("o")}, %(now)s - interval '58 days',
               %(now)s - interval '57 days' {{defaults}}
        FROM (SELECT w, {plan.org_of_workspace("w")} AS o
              FROM {_series(plan.n["workspaces"], "w")}) AS s""", plan.params)


def _key_rows(plan: _Plan, keys: Ids, main_keys: int) -> int:
    """Keys 0..main_keys-1 belong to the main workspace; the rest go round the others.
    Every tenth key is a production key."""
    others = max(1, plan.n["workspaces"] - 1)
    workspace = ("0" if plan.n["workspaces"] == 1 else
                 f"CASE WHEN k < {main_keys:d} THEN 0 "
                 f"ELSE 1 + mod(k - {main_keys:d}, {others:d}) END")
    # A workspace holds ten active keys at most: the rest were rotated away.
    active = f"CASE WHEN w = 0 THEN k < 10 ELSE k - {main_keys:d} < {others:d} END"
    return insert_select(ApiKey, (
        "id", "workspace_id", "workspace_path", "environment", "name", "public_id",
        "secret_hash", "prefix", "last4", "scopes", "created_by_id", "created_at",
        "revoked_at"), f"""
        SELECT {keys.sql("k")}, {plan.workspaces.sql("w")}, {plan.slug("o")} || '/app-' || w,
               CASE WHEN production THEN %(production)s ELSE %(sandbox)s END, 'Key ' || k,
               'key_s' || %(tag)s || lpad(k::text, 9, '0'),
               %(tag)s || lpad(to_hex({keys.sql("k")}), 58, '0'),
               CASE WHEN production THEN 'sk_live_' ELSE 'sk_sandbox_' END,
               lpad(mod(k, 10000)::text, 4, '0'), %(scopes)s::varchar(32)[],
               {plan.owner_of("o")}, created,
               CASE WHEN {active} THEN NULL ELSE created + interval '1 day' END {{defaults}}
        FROM (SELECT k, w, {plan.org_of_workspace("w")} AS o, mod(k, 10) = 9 AS production,
                     %(now)s - interval '56 days' - k * interval '1 second' AS created
              FROM (SELECT k, {workspace} AS w FROM {_series(plan.n["keys"], "k")}) AS a
        ) AS s""", {**plan.params, "scopes": [Scope.ACCOUNTS_READ.value]})


def _call_rows(plan: _Plan, keys: Ids, main_keys: int) -> int:
    """10% of the calls are the main workspace's, made with its first three sandbox keys
    over CALL_DAYS; each other workspace makes its calls with its first key, within one
    hour of those days (so rollups hold a few rows per workspace, as real traffic would,
    not one per call). Cheap arithmetic, not random."""
    total, seconds = plan.n["calls"], CALL_DAYS * 24 * 3600
    main_calls = _share(total, 0.1)
    main_sandbox = [k for k in range(main_keys) if k % 10 != 9][:3] or [0]
    others = max(1, plan.n["workspaces"] - 1)
    start = (plan.params["now"] - timedelta(seconds=seconds)).replace(
        minute=0, second=0, microsecond=0)
    main = "true" if plan.n["workspaces"] == 1 else f"c < {main_calls:d}"
    return insert_select(CallRecord, usage_services.CALL_COLUMNS, f"""
        SELECT {plan.workspaces.sql("w")}, {keys.sql("k")},
               CASE WHEN mod(k, 10) = 9 THEN %(production)s ELSE %(sandbox)s END,
               (%(paths)s::text[])[mod(c * 7, {len(ENDPOINTS):d}) + 1],
               (%(methods)s::text[])[mod(c * 7, {len(ENDPOINTS):d}) + 1],
               CASE WHEN mod(c * 37, 100) < 90 THEN 200
                    WHEN mod(c * 37, 100) < 97 THEN 404 ELSE 500 END,
               5 + mod(c * 13, 400), 'req_s' || %(tag)s || '_' || c,
               LEAST(%(start)s + "offset" * interval '1 second', %(now)s) {{defaults}}
        FROM (SELECT c, w, CASE WHEN {main} THEN {_pick(main_sandbox, "c")}
                                ELSE LEAST({main_keys - 1:d} + w, {plan.n["keys"] - 1:d})
                           END AS k,
                     CASE WHEN {main} THEN mod(c * 7919, {seconds:d})
                          ELSE mod(w, {CALL_DAYS * 24:d}) * 3600 + mod(c * 7919, 3600)
                     END AS "offset"
              FROM (SELECT c, CASE WHEN {main} THEN 0
                                   ELSE 1 + mod(c - {main_calls:d}, {others:d}) END AS w
                    FROM {_series(total, "c")}) AS a
        ) AS s""", {**plan.params, "start": start,
                    "paths": [path for _, path in ENDPOINTS],
                    "methods": [method for method, _ in ENDPOINTS]})


def _audit_rows(plan: _Plan) -> int:
    """10% of the events are the large organization's, by its members."""
    total, members = plan.n["audit_events"], plan.n["memberships"]
    large = _share(total, 0.1)
    member = (f"CASE WHEN e < {large:d} THEN mod(e, {plan.large_members:d}) "
              f"ELSE LEAST({plan.large_members:d} + mod(e - {large:d}, "
              f"{max(1, members - plan.large_members):d}), {members - 1:d}) END")
    return insert_select(AuditEvent, (
        "occurred_at", "actor_id", "action", "organization_id", "workspace_id",
        "target_type", "target_id", "user_agent", "request_id", "details"), f"""
        SELECT %(now)s - mod(e * 31, {90 * 86400:d}) * interval '1 second',
               {plan.users.sql("m")},
               (%(actions)s::text[])[mod(e, {len(ACTIONS):d}) + 1],
               {plan.orgs.sql(plan.org_of_member("m"))}, NULL, 'membership', e::text,
               'scale-data', '', '{{}}'::jsonb {{defaults}}
        FROM (SELECT e, {member} AS m FROM {_series(total, "e")}) AS s""",
        {**plan.params, "actions": ACTIONS})


def _webhook_rows(plan: _Plan, step) -> str:
    """One endpoint per workspace; events delivered once each, attempted twice (a 500,
    then a 200). 10% of them on the main workspace's endpoint. Its public id."""
    endpoints, events, deliveries = Ids(Endpoint), Ids(Event), Ids(Delivery)
    n_endpoints = plan.n["workspaces"]
    n_events = max(1, plan.n["webhook_attempts"] // 2)
    main_events = _share(n_events, 0.1)
    endpoint_of = ("0" if n_endpoints == 1 else
                   f"CASE WHEN e < {main_events:d} THEN 0 "
                   f"ELSE 1 + mod(e - {main_events:d}, {n_endpoints - 1:d}) END")
    events_with = (f"(SELECT e, {endpoint_of} AS p, "
                   f"%(now)s - mod(e * 17, {30 * 86400:d}) * interval '1 second' AS moment "
                   f"FROM {_series(n_events, 'e')}) AS s")
    params = {**plan.params, "event_types": list(EVENT_TYPES)}

    step("webhook endpoints", lambda: insert_select(Endpoint, (
        "id", "workspace_id", "environment", "public_id", "url", "description", "event_types",
        "secret_encrypted", "previous_secret_encrypted", "enabled", "disabled_reason",
        "created_by_id", "created_at", "updated_at"), f"""
        SELECT {endpoints.sql("p")}, {plan.workspaces.sql("p")}, %(sandbox)s,
               'ep_s' || %(tag)s || lpad(p::text, 9, '0'),
               'https://hooks.example.com/' || p, 'Scale data', %(event_types)s::varchar(64)[],
               '', '', true, '', {plan.owner_of(plan.org_of_workspace("p"))},
               %(now)s - interval '50 days', %(now)s - interval '50 days' {{defaults}}
        FROM {_series(n_endpoints, "p")}""", params))
    step("webhook events", lambda: insert_select(Event, (
        "id", "workspace_id", "environment", "public_id", "type", "data", "created_at",
        "dispatched_at"), f"""
        SELECT {events.sql("e")}, {plan.workspaces.sql("p")}, %(sandbox)s,
               'msg_s' || %(tag)s || lpad(e::text, 10, '0'),
               (%(event_types)s::text[])[mod(e, {len(EVENT_TYPES):d}) + 1],
               '{{"scale": true}}'::jsonb, moment, moment {{defaults}}
        FROM {events_with}""", params))
    step("webhook deliveries", lambda: insert_select(Delivery, (
        "id", "event_id", "endpoint_id", "kind", "status", "attempt_count", "last_attempt_at",
        "created_at"), f"""
        SELECT {deliveries.sql("e")}, {events.sql("e")}, {endpoints.sql("p")}, 'original',
               'succeeded', 2, moment + interval '31 seconds', moment {{defaults}}
        FROM {events_with}""", params))
    step("webhook attempts", lambda: insert_select(Attempt, (
        "delivery_id", "number", "attempted_at", "status_code", "latency_ms", "error",
        "response_excerpt"), f"""
        SELECT {deliveries.sql("e")}, a.number, moment + a.after, a.status_code, a.latency_ms,
               '', a.excerpt {{defaults}}
        FROM {events_with} CROSS JOIN (VALUES
            (1, interval '1 second', 500, 120, 'busy'),
            (2, interval '31 seconds', 200, 40, 'ok')
        ) AS a(number, after, status_code, latency_ms, excerpt)""", params))
    return f"ep_s{plan.tag}{0:09d}"


def build(factor: float, *, log=lambda message: None, now: datetime | None = None) -> ScaleData:
    """Write the data set at `factor` and roll its calls up; where to find the large
    organization. One transaction per table, so a failure leaves whole tables."""
    plan = _Plan(factor, now or timezone.now())

    def step(name: str, fn) -> None:
        began = timezone.now()
        with transaction.atomic():
            loaded = fn()
        log(f"{name}: {loaded:,} rows in {(timezone.now() - began).total_seconds():.1f} s")

    step("users", lambda: _people(plan))
    step("organizations", lambda: _organizations(plan))
    step("memberships", lambda: _member_rows(plan))
    step("workspaces", lambda: _workspace_rows(plan))
    keys, main_keys = Ids(ApiKey), _share(plan.n["keys"], 0.001)
    step("keys", lambda: _key_rows(plan, keys, main_keys))
    step("calls", lambda: _call_rows(plan, keys, main_keys))
    step("audit events", lambda: _audit_rows(plan))
    endpoint_public_id = _webhook_rows(plan, step)
    began = timezone.now()
    with work_mem():
        hours = usage_services.roll_up_usage()
    log(f"rollup: {hours:,} workspace-hours in "
        f"{(timezone.now() - began).total_seconds():.1f} s")
    return ScaleData(plan.owner_email, f"scale-{plan.tag}-0", "app-0", endpoint_public_id, plan.n)


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
