"""What every benchmark uses: a throwaway database, the project under gunicorn, an HTTP
load generator, memory and time measures, and the report.

Machines here have 2 cores shared by the load tool, the server and the database, so
absolute numbers mean little: a benchmark measures a baseline and the thing under test
in the same run and reports the ratio against a target.
"""

from bench.harness.database import (
    Tenant,
    bench_database_url,
    django_on_throwaway_database,
    make_tenant,
    session_headers,
    signed_in_client,
)
from bench.harness.measures import (
    BenchError,
    Measure,
    Ratio,
    Result,
    drain,
    mib,
    print_report,
    say,
    summary_line,
    timed,
    traced_peak,
)
from bench.harness.web import Load, Request, Server, fetch, load, load_tool, serve

__all__ = [
    "BenchError", "Load", "Measure", "Ratio", "Request", "Result", "Server", "Tenant",
    "bench_database_url", "django_on_throwaway_database", "drain", "fetch", "load",
    "load_tool", "make_tenant", "mib", "print_report", "say", "serve", "session_headers",
    "signed_in_client", "summary_line", "timed", "traced_peak",
]
