"""Key verification throughput: POST /api/v1/keys/verify against a bare Django view.

Both run through the same middleware on the same gunicorn (2 workers) in the same run;
the verify request carries a real sandbox key, so each call parses and checksums it,
computes the HMAC and does the one indexed lookup. Target: at least 0.7x the bare view.
"""

import json

from django.utils import timezone

from bench import harness


def run() -> list[harness.Result]:
    from keys import services

    tenant = harness.make_tenant("owner")
    tenant.workspace.sandbox_approved_at = timezone.now()
    tenant.workspace.save()
    _, secret = services.issue_key(actor=tenant.user, workspace=tenant.workspace,
                                   environment="sandbox", name="bench",
                                   scopes=["accounts:read"])
    headers = {"Authorization": "Bearer dev-gateway-token", "Content-Type": "application/json"}
    body = json.dumps({"key": secret, "environment": "sandbox"}).encode()
    verify = harness.Request("/api/v1/keys/verify", method="POST", body=body, headers=headers)
    bare = harness.Request("/bench/bare", method="POST", body=body, headers=headers)
    with harness.serve(env={"DJANGO_SETTINGS_MODULE": "bench.bare_settings",
                            "GATEWAY_SERVICE_TOKEN": "dev-gateway-token"}) as server:
        status, answer = harness.fetch(server, verify)
        if status != 200 or not json.loads(answer)["valid"]:
            raise RuntimeError(f"verify answered {status}: {answer[:200]!r}")
        harness.load(server, bare, seconds=1)  # warm both workers
        baseline = harness.load(server, bare)
        verified = harness.load(server, verify)
    return [harness.Ratio("verify / bare view throughput", baseline.measure("bare view"),
                          verified.measure("POST /api/v1/keys/verify"), target=0.7,
                          at_least=True)]
