"""Audit-log CSV export: peak memory stays flat from 10k to 100k events (it streams).

One organization's log grows from 10,000 to 100,000 events; at each size the export is
consumed chunk by chunk, once timed and once under tracemalloc, both through
`audit.selectors.export_csv` and through the export view (Django's test Client, signed
in as a Security owner). Target: peak memory 100k/10k under 2x. The time ratio
(about 10x for a linear export) is informational.
"""

from django.urls import reverse

from audit.models import Action, AuditEvent
from audit.selectors import export_csv
from bench import harness
from bench.harness import BenchError, Measure, Ratio
from workspaces.roles import Role

SIZES = (10_000, 100_000)
BATCH = 5_000
MEMORY_TARGET = 2.0
ACTIONS = [Action.SIGNED_IN, Action.MEMBER_INVITED, Action.ROLES_CHANGED,
           Action.SANDBOX_REQUESTED, Action.WORKSPACE_CREATED]
USER_AGENT = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/131.0.0.0 Safari/537.36")


def run() -> list[harness.Result]:
    tenant = harness.make_tenant(Role.SECURITY_OWNER)
    events = AuditEvent.objects.for_organization(tenant.organization)
    client = harness.signed_in_client(tenant.user)
    url = reverse("organization_audit_export", args=[tenant.organization.slug, "csv"])

    def view_stream():
        response = client.get(url)
        if response.status_code != 200 or not response.streaming:
            raise BenchError(f"GET {url} answered {response.status_code}, not a stream")
        return response.streaming_content

    selector, view = {}, {}
    for size in SIZES:
        _grow(tenant, size)
        selector[size] = _measure("export_csv", lambda: export_csv(events), size)
        view[size] = _measure("export view", view_stream, size)

    return [
        *_ratios("export_csv(queryset)", selector),
        *_ratios("export view, test Client", view),
    ]


def _grow(tenant: harness.Tenant, total: int) -> None:
    """Bulk-insert events until the organization's log holds `total` of them."""
    have = AuditEvent.objects.for_organization(tenant.organization).count()

    def insert() -> None:
        for start in range(have, total, BATCH):
            AuditEvent.objects.bulk_create(
                _event(tenant, i) for i in range(start, min(start + BATCH, total)))

    _, seconds = harness.timed(insert)
    harness.say(f"{total - have:,} events inserted in {seconds:.1f} s ({total:,} in the log)")


def _event(tenant: harness.Tenant, i: int) -> AuditEvent:
    return AuditEvent(
        actor=tenant.user, action=ACTIONS[i % len(ACTIONS)], organization=tenant.organization,
        workspace=tenant.workspace if i % 2 else None, target_type="workspaces.membership",
        target_id=str(i), ip_address=f"10.0.{i // 256 % 256}.{i % 256}", user_agent=USER_AGENT,
        details={"email": f"member{i}@example.com", "to": ["developer", "viewer"]},
    )


def _measure(what: str, make_stream, rows: int) -> tuple[float, int]:
    """(seconds, peak bytes) of consuming one export: timed first (which also warms
    every lazy import and cache), then again under tracemalloc."""
    (size, lines), seconds = harness.timed(lambda: harness.drain(make_stream()))
    if lines < rows + 1:  # the header, then one line an event
        raise BenchError(f"export had {lines:,} lines for {rows:,} events")
    _, peak = harness.traced_peak(lambda: harness.drain(make_stream()))
    harness.say(f"{what}, {rows:,} events: {harness.mib(size):.1f} MiB of CSV in {seconds:.2f} s, "
                f"peak {harness.mib(peak):.2f} MiB")
    return seconds, peak


def _ratios(what: str, by_size: dict[int, tuple[float, int]]) -> list[Ratio]:
    small, large = SIZES
    (small_s, small_peak), (large_s, large_peak) = by_size[small], by_size[large]
    return [
        Ratio(f"{what}: peak memory {large // 1000}k/{small // 1000}k",
              Measure(f"{small:,} events", harness.mib(small_peak), "MiB"),
              Measure(f"{large:,} events", harness.mib(large_peak), "MiB"),
              target=MEMORY_TARGET),
        Ratio(f"{what}: time {large // 1000}k/{small // 1000}k (expected about 10x)",
              Measure(f"{small:,} events", small_s, "s"),
              Measure(f"{large:,} events", large_s, "s")),
    ]
