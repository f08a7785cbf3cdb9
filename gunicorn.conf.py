"""Gunicorn settings for the portal (read by `gunicorn portal.wsgi`, from this directory).

Every value can be overridden on the command line or by the variables named here. Each
worker process holds up to two PostgreSQL connections: its request connection
(CONN_MAX_AGE keeps it) and its key-cache listener (keys/cache.py); size
max_connections for them (see README, Deploying).
"""

import multiprocessing
import os
import shutil
import tempfile
from pathlib import Path

bind = os.environ.get("BIND", f"0.0.0.0:{os.environ['PORT']}" if "PORT" in os.environ
                      else "127.0.0.1:8000")
# Synchronous workers, two per core: requests are short and mostly wait on PostgreSQL.
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count()))
timeout = int(os.environ.get("WEB_TIMEOUT", "30"))  # a request running longer is killed
graceful_timeout = 20
keepalive = 5  # seconds: behind a load balancer that reuses connections
# Recycle workers now and then (bounded memory growth); jitter keeps them from
# restarting together.
max_requests = 5000
max_requests_jitter = 500
# Access lines come from the load balancer in most deployments; ACCESS_LOG=- prints them,
# each with the request id the portal answered with.
accesslog = os.environ.get("ACCESS_LOG") or None
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms id=%({x-request-id}o)s'
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

# Prometheus: each worker writes its counters to files in this directory and a scrape of
# /metrics adds up every process on the host (portal/metrics.py). Set it before any
# worker imports prometheus_client; Celery workers on the same host may share it.
_own_metrics_dir = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _own_metrics_dir:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="portal-metrics-")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def on_starting(server):
    """Forget the files of processes that are gone (a previous master's workers), so they
    are not added to this one's; files of live processes (Celery workers) stay."""
    for path in Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).glob("*_*.db"):
        pid = path.stem.rpartition("_")[2]
        if pid.isdigit() and not _alive(int(pid)):
            path.unlink(missing_ok=True)


def child_exit(server, worker):
    """Let the scrape forget a dead worker's live gauges (its counters stay counted)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """Remove the metrics directory this configuration made up (not one that was given)."""
    if _own_metrics_dir:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
