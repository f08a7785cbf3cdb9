"""The portal refuses to serve with the development secrets outside development."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from portal.devsecrets import DEVELOPMENT_SECRETS, development_secrets_in

BASE_DIR = Path(__file__).resolve().parents[2]
REAL = {"SECRET_KEY": "k" * 60, "API_KEY_PEPPER": "a-real-pepper-of-some-length",
        "WEBHOOK_SECRET_KEYS": "zpRQjvL5eOJVJrvAMD1Ro9pMyHSYQ0FqXBqYtkGCxk8=",
        "GATEWAY_SERVICE_TOKEN": "a-real-gateway-token"}
PRODUCTION = {"PORTAL_ENV": "production", "ALLOWED_HOSTS": "portal.example.com", **REAL}


def _run(code_or_args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items()
            if k not in {*DEVELOPMENT_SECRETS, "PORTAL_ENV", "DEBUG", "PYTEST_XDIST_WORKER"}}
    return subprocess.run([sys.executable, *code_or_args], cwd=BASE_DIR, env={**base, **env},
                          capture_output=True, text=True, timeout=60)


def _start(env: dict[str, str]) -> subprocess.CompletedProcess:
    return _run(["-c", "import django; django.setup(); print('started')"],
                {"DJANGO_SETTINGS_MODULE": "portal.settings", **env})


@pytest.mark.parametrize("name", sorted(DEVELOPMENT_SECRETS))
def test_production_refuses_to_start_with_a_development_secret(name):
    started = _start({**PRODUCTION, name: DEVELOPMENT_SECRETS[name]})

    assert started.returncode != 0
    assert f"Development values published in this repository: {name}." in started.stderr


@pytest.mark.parametrize("env", [{"PORTAL_ENV": "staging"},
                                 {"PORTAL_ENV": "development", "DEBUG": "0"}])
def test_outside_development_or_without_debug_the_defaults_are_refused(env):
    started = _start(env)

    assert started.returncode != 0
    assert ("published in this repository: SECRET_KEY, API_KEY_PEPPER, WEBHOOK_SECRET_KEYS, "
            "GATEWAY_SERVICE_TOKEN." in started.stderr)


def test_development_with_debug_starts_with_the_defaults_and_production_with_real_ones():
    assert _start({"PORTAL_ENV": "development", "DEBUG": "1"}).stdout.strip() == "started"
    assert _start(PRODUCTION).stdout.strip() == "started"


def test_the_deploy_check_fails_on_a_development_value():
    checked = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                   {"PORTAL_ENV": "development", "DEBUG": "1"})

    assert checked.returncode != 0
    assert "portal.E001" in checked.stderr + checked.stdout


@pytest.mark.parametrize("name", ["API_KEY_PEPPER", "GATEWAY_SERVICE_TOKEN"])
def test_make_check_deploy_fails_on_a_development_value(name):
    # -o: the shared virtualenv counts as installed.
    checked = subprocess.run(["make", "--no-print-directory", "-o", ".venv/.installed",
                              "check-deploy"], cwd=BASE_DIR,
                             env={**os.environ, name: DEVELOPMENT_SECRETS[name]},
                             capture_output=True, text=True, timeout=120)

    assert checked.returncode != 0
    assert f"Development values published in this repository: {name}." in checked.stderr


def test_a_list_of_secrets_counts_when_it_includes_a_development_value():
    values = {"WEBHOOK_SECRET_KEYS": [REAL["WEBHOOK_SECRET_KEYS"],
                                      DEVELOPMENT_SECRETS["WEBHOOK_SECRET_KEYS"]],
              "SECRET_KEY": REAL["SECRET_KEY"]}

    assert development_secrets_in(values) == ["WEBHOOK_SECRET_KEYS"]
