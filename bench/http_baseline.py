"""Throughput of /docs/ under gunicorn (anonymous, cached Markdown): informational.

Serves the project the way the HTTP benchmarks do (gunicorn, 2 workers, this run's
database) and loads /docs/ for 5 seconds; a self-test of the harness's HTTP part.
The number depends on the machine: compare ratios measured in one run, never this.
"""

from bench import harness


def run() -> list[harness.Result]:
    with harness.serve() as server:
        docs = harness.load(server, "/docs/")
    return [docs.measure("GET /docs/ (anonymous)")]
