"""gunicorn.conf.py: settings gunicorn reads, and its Prometheus bookkeeping."""

import os
import runpy
import subprocess
import sys
from pathlib import Path

from django.conf import settings

CONF = Path(settings.BASE_DIR) / "gunicorn.conf.py"


def test_workers_bind_and_metrics_directory_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.setenv("PORT", "5000")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))

    conf = runpy.run_path(str(CONF))

    assert (conf["workers"], conf["bind"]) == (3, "0.0.0.0:5000")
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(tmp_path)


def test_a_new_master_forgets_dead_processes_metrics_and_keeps_live_ones(monkeypatch,
                                                                         tmp_path):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    dead = tmp_path / f"counter_{gone}.db"
    live = tmp_path / f"histogram_{os.getpid()}.db"
    dead.write_bytes(b"x")
    live.write_bytes(b"x")

    runpy.run_path(str(CONF))["on_starting"](None)

    assert sorted(p.name for p in tmp_path.iterdir()) == [live.name]
