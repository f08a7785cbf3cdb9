"""The throwaway `<dbname>_bench` database, Django set up on it, and the data benchmarks
need: a signed-in member of an organization."""

import os
import secrets
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bench.harness.measures import BenchError
from portal.devservices import redact

DB_SUFFIX = "_bench"


def bench_database_url(url: str) -> str:
    """The same server and credentials, database `<name>_bench`."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name or "/" in name:
        raise BenchError(f"DATABASE_URL names no database: {redact(url)}")
    return urlunsplit(parts._replace(path=f"/{name}{DB_SUFFIX}"))


def _admin_connection(url: str):
    """An autocommit connection to the server's `postgres` database, from url's settings."""
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(url)
    return psycopg.connect(
        dbname="postgres", user=config.get("USER") or None,
        password=config.get("PASSWORD") or None, host=config.get("HOST") or None,
        port=config.get("PORT") or None, autocommit=True, **config.get("OPTIONS", {}))


def _recreate(url: str, *, create: bool) -> None:
    from psycopg import sql

    name = urlsplit(url).path.lstrip("/")
    assert name.endswith(DB_SUFFIX)  # never anything but the benchmark's own database
    with _admin_connection(url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))
        if create:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def bench_secrets() -> dict[str, str]:
    """Throwaway secrets for one run (the bench process and its servers share them)."""
    from cryptography.fernet import Fernet

    return {"SECRET_KEY": secrets.token_urlsafe(50), "API_KEY_PEPPER": secrets.token_urlsafe(32),
            "GATEWAY_SERVICE_TOKEN": secrets.token_urlsafe(32),
            "WEBHOOK_SECRET_KEYS": Fernet.generate_key().decode()}


@contextmanager
def django_on_throwaway_database() -> Iterator[str]:
    """Create `<dbname>_bench`, point Django at it, set Django up and migrate; drop it
    afterwards unless BENCH_KEEP_DB=1. Yields the database URL."""
    source = os.environ.get("DATABASE_URL")
    if not source:
        raise BenchError("DATABASE_URL is not set: run `make bench`, or export it")
    url = bench_database_url(source)
    _recreate(url, create=True)
    try:
        os.environ["DATABASE_URL"] = url
        # DEBUG would keep every SQL statement in memory and skew memory measures. With
        # DEBUG off the portal refuses its published development secrets: this run's own.
        os.environ["DEBUG"] = "0"
        for name, value in bench_secrets().items():
            os.environ.setdefault(name, value)
        # WhiteNoise warns that STATIC_ROOT was never collected: static files are not measured.
        warnings.filterwarnings("ignore", message="No directory at")
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", interactive=False, verbosity=0)
        yield url
    finally:
        from django.db import connections

        connections.close_all()
        if os.environ.get("BENCH_KEEP_DB") == "1":
            print(f"BENCH_KEEP_DB=1: kept {redact(url)}")
        else:
            _recreate(url, create=False)


# --- Data --------------------------------------------------------------------

@dataclass(frozen=True)
class Tenant:
    user: Any
    organization: Any
    workspace: Any
    membership: Any


def make_tenant(*roles: str) -> Tenant:
    """A user holding these roles in a new organization with one workspace."""
    from accounts.models import User
    from workspaces.models import Membership, Organization, Workspace

    tag = uuid.uuid4().hex[:8]
    user = User.objects.create_user(f"bench-{tag}@example.com", full_name="Bench User")
    organization = Organization.objects.create(name=f"Bench {tag}", slug=f"bench-{tag}",
                                               created_by=user)
    workspace = Workspace.objects.create(organization=organization, name="Bench app",
                                         slug="bench-app", created_by=user)
    membership = Membership.objects.create(user=user, organization=organization,
                                           roles=list(roles))
    return Tenant(user, organization, workspace, membership)


def signed_in_client(user):
    """Django's test Client, signed in as user (no password, no MFA)."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def session_headers(user) -> dict[str, str]:
    """A Cookie header signing user in on a served app (sessions live in the shared
    database and Redis, so gunicorn's workers accept it)."""
    from django.conf import settings

    cookie = signed_in_client(user).cookies[settings.SESSION_COOKIE_NAME].value
    return {"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"}

