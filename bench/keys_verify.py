"""Key verification throughput: POST /api/v1/keys/verify against a bare Django view.

All run through the same middleware on the same gunicorn (2 workers) in the same run;
the verify request carries a real sandbox key, so each call parses and checksums it and
computes the HMAC. As deployed, each worker's key cache (keys/cache.py) answers a key
it has verified before; a second server with KEY_CACHE=0 looks every key up in the
database, for comparison. Target: at least 0.7x the bare view, both the bare view as
pages answer (building the pages' CSP) and as machine endpoints answer (fixed CSP).
"""

import json
import os

from django.utils import timezone

from bench import harness

ENV = {"DJANGO_SETTINGS_MODULE": "bench.bare_settings"}


def run() -> list[harness.Result]:
    from keys import services

    tenant = harness.make_tenant("owner")
    tenant.workspace.sandbox_approved_at = timezone.now()
    tenant.workspace.save()
    _, secret = services.issue_key(actor=tenant.user, workspace=tenant.workspace,
                                   environment="sandbox", name="bench",
                                   scopes=["accounts:read"])
    # The run's own token (bench.harness.database sets it; the servers inherit it).
    headers = {"Authorization": f"Bearer {os.environ['GATEWAY_SERVICE_TOKEN']}",
               "Content-Type": "application/json"}
    body = json.dumps({"key": secret, "environment": "sandbox"}).encode()

    def post(path: str) -> harness.Request:
        return harness.Request(path, method="POST", body=body, headers=headers)

    verify, bare = post("/api/v1/keys/verify"), post("/bench/bare")
    bare_machine, one_query = post("/bench/bare-machine"), post("/bench/one-query")

    with harness.serve(env=ENV) as server:
        _check(server, verify)
        harness.load(server, bare, seconds=1)  # warm both workers
        harness.load(server, verify, seconds=1)  # each worker's cache listens and holds the key
        baseline = harness.load(server, bare).measure("bare view")
        machine_baseline = harness.load(server, bare_machine).measure("bare view, fixed CSP")
        round_trip = harness.load(server, one_query).measure("one SELECT 1")
        cached = harness.load(server, verify).measure("POST /api/v1/keys/verify, key cache")
    with harness.serve(env={**ENV, "KEY_CACHE": "0"}) as server:
        _check(server, verify)
        harness.load(server, bare, seconds=1)
        uncached_baseline = harness.load(server, bare).measure("bare view")
        uncached = harness.load(server, verify).measure("POST /api/v1/keys/verify, KEY_CACHE=0")

    return [
        harness.Ratio("verify / bare view throughput (as deployed)", baseline, cached,
                      target=0.7, at_least=True),
        harness.Ratio("verify / bare view answering like a machine endpoint",
                      machine_baseline, cached, target=0.7, at_least=True),
        harness.Ratio("verify with KEY_CACHE=0, a database lookup per call / bare view",
                      uncached_baseline, uncached),
        harness.Ratio("one database round trip (SELECT 1), fixed CSP / bare view, fixed CSP",
                      machine_baseline, round_trip),
    ]


def _check(server: harness.Server, verify: harness.Request) -> None:
    status, answer = harness.fetch(server, verify)
    if status != 200 or not json.loads(answer)["valid"]:
        raise RuntimeError(f"verify answered {status}: {answer[:200]!r}")
