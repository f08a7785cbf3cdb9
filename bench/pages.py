"""Signed-in pages at 100x data: queries equal to 1x, p50 at most 2x a bare page (usage 3x).

`manage.py build_scale_data` writes the data set twice into the benchmark database: at
SMALL_FACTOR ("1x") and at a hundred times that ("100x"). Each build has one large
organization; its owner is signed in (Django's test Client, in-process) and every page
a person uses daily is rendered: access, organization home, members, invitations, the
main workspace's overview, keys, webhooks and one endpoint, usage at each range,
the request log (all and 4xx only), integration history, the audit log, the production
review and its dossier. Per page:
the number of queries at 1x and at 100x (target: equal), and at 100x the median render
time as a ratio to a bare page that extends the same base.html through the same
resolver and context processors (`bench/bare_urls.py`), measured in the same rounds.

The 1x set is built into the benchmark database each run (seconds). The 100x set is
the full one (factor 1: 10M calls; BENCH_SCALE_FACTOR picks a smaller share, and the
report says so): its first run builds it in a few minutes and keeps it as a template
database, later runs copy the template in seconds (bench/harness/scale.py).
"""

import os
import statistics
import time

from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from bench import harness
from bench.harness import BenchError, Measure, Ratio
from bench.harness.scale import scale_database
from onboarding.management.commands.build_scale_data import FULL, ScaleData, build

LARGE_FACTOR = float(os.environ.get("BENCH_SCALE_FACTOR", "1"))
SMALL_FACTOR = LARGE_FACTOR / 100
WARMUP = 2
ROUNDS = 15
TARGET, USAGE_TARGET = 2.0, 3.0


def _pages(data: ScaleData) -> dict[str, str]:
    org, ws = data.organization_slug, data.workspace_slug
    scoped = [org, ws]
    usage = reverse("usage", args=scoped)
    return {
        "bare page": reverse("bench_bare_page", args=scoped),
        "access": reverse("access"),
        "organization home": reverse("organization_home", args=[org]),
        "members": reverse("members", args=[org]),
        "invitations": reverse("invitations", args=[org]),
        "workspace overview": reverse("workspace_overview", args=scoped),
        "keys (sandbox)": reverse("key_list", args=[*scoped, "sandbox"]),
        "webhooks (sandbox)": reverse("webhook_list", args=[*scoped, "sandbox"]),
        "webhook endpoint": reverse("webhook_endpoint",
                                    args=[*scoped, "sandbox", data.endpoint_public_id]),
        "usage 24h": f"{usage}?range=24h",
        "usage 7d": f"{usage}?range=7d",
        "usage 30d": f"{usage}?range=30d",
        "requests (sandbox)": reverse("request_log", args=[*scoped, "sandbox"]),
        "requests 4xx": reverse("request_log", args=[*scoped, "sandbox"]) + "?status=4xx",
        "integration history": reverse("workspace_history", args=scoped),
        "audit log": reverse("organization_audit", args=[org]),
        "production review": reverse("review_overview", args=scoped),
        "review dossier": reverse("review_dossier", args=scoped),
    }


def run() -> list[harness.Result]:
    if not 0 < LARGE_FACTOR <= 1:
        raise BenchError("BENCH_SCALE_FACTOR must be in (0, 1]")
    harness.say(f"data sets: factor {SMALL_FACTOR:g} (1x) and {LARGE_FACTOR:g} (100x)"
                + ("" if LARGE_FACTOR == 1 else
                   f"; REDUCED: the 100x set has {FULL['calls'] * LARGE_FACTOR:,.0f} calls, "
                   f"not {FULL['calls']:,} (BENCH_SCALE_FACTOR=1 for the full set)"))
    measured = {}
    with override_settings(ROOT_URLCONF="bench.bare_urls"):
        began = time.perf_counter()
        data = build(SMALL_FACTOR, log=harness.say)
        _vacuum()
        harness.say(f"1x set built in {time.perf_counter() - began:.0f} s")
        measured["1x"] = _measure_as_owner(data)
        with scale_database(LARGE_FACTOR) as data:
            measured["100x"] = _measure_as_owner(data)

    results: list[harness.Result] = []
    small, large = measured["1x"], measured["100x"]
    bare = large["bare page"][0]
    for name, (p50, _) in large.items():
        if name == "bare page":
            continue
        results.append(Ratio(
            f"{name}: p50 render at 100x / bare page",
            Measure("bare page", bare * 1000, "ms"),
            Measure(name, p50 * 1000, "ms", f"{small[name][0] * 1000:.1f} ms at 1x"),
            target=USAGE_TARGET if name.startswith("usage") else TARGET))
    for name, (_, queries) in large.items():
        results.append(Ratio(
            f"{name}: queries at 100x / 1x",
            Measure("1x", small[name][1], "queries"), Measure("100x", queries, "queries"),
            target=1.0, exactly=True))
    return results


def _measure_as_owner(data: ScaleData) -> dict[str, tuple[float, int]]:
    from accounts.models import User

    client = harness.signed_in_client(User.objects.get(email=data.owner_email))
    return _measure(client, _pages(data))


def _vacuum() -> None:
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def _measure(client, pages: dict[str, str]) -> dict[str, tuple[float, int]]:
    """page -> (median seconds, queries). Pages take turns, round after round, so drift
    on the shared machine falls on all of them alike."""
    queries = {}
    for name, url in pages.items():
        # Counted after the warm-up: the process's first request fills caches once
        # (content types, permissions) whatever the data.
        for _ in range(WARMUP):
            _render(client, url)
        with CaptureQueriesContext(connection) as captured:
            _render(client, url)
        queries[name] = len(captured)
    times: dict[str, list[float]] = {name: [] for name in pages}
    for _ in range(ROUNDS):
        for name, url in pages.items():
            times[name].append(_render(client, url))
    result = {name: (statistics.median(t), queries[name]) for name, t in times.items()}
    harness.say(", ".join(f"{name} {p50 * 1000:.0f} ms/{count} q"
                          for name, (p50, count) in result.items()))
    return result


def _render(client, url: str) -> float:
    began = time.perf_counter()
    response = client.get(url)
    seconds = time.perf_counter() - began
    if response.status_code != 200:
        raise BenchError(f"GET {url} answered {response.status_code}")
    return seconds
