"""The scale data set (`manage.py build_scale_data`) built once and kept between runs.

Building the full set takes minutes; copying a database takes seconds. So the first run
builds it into a database of its own and keeps that as a PostgreSQL template named
`<bench database>_scale_<hash>`, where the hash covers the factor, the builder's source,
the rollup's and every migration's name: a change to any of them builds a new one and
drops the stale. Each run then measures a fresh copy (CREATE DATABASE ... TEMPLATE,
file by file), dropped afterwards, so what a run writes (sessions, first-visit
milestones) never reaches the next. `BENCH_SCALE_REBUILD=1` builds it again anyway.
"""

import hashlib
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.harness.database import _admin_connection
from bench.harness.measures import say

BASE_DIR = Path(__file__).resolve().parents[2]
# What the stored data depends on, besides the migrations.
SOURCES = ("onboarding/management/commands/build_scale_data.py",
           "onboarding/management/bulk.py", "usage/services.py", "bench/harness/scale.py")
HASH_LENGTH = 12


def source_hash(factor: float) -> str:
    """A short hash of everything the data set at `factor` is made from."""
    from django.db.migrations.loader import MigrationLoader

    digest = hashlib.sha256(f"factor={factor!r}\n".encode())
    for source in SOURCES:
        digest.update((BASE_DIR / source).read_bytes())
    migrations = sorted(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    digest.update(repr(migrations).encode())
    return digest.hexdigest()[:HASH_LENGTH]


@contextmanager
def scale_database(factor: float) -> Iterator:
    """Django's default database switched to a fresh copy of the scale data set at
    `factor` while the block runs; yields its ScaleData."""
    from django.db import connection

    bench_name = connection.settings_dict["NAME"]
    template = f"{bench_name}_scale_{source_hash(factor)}"
    copy = f"{bench_name}_pages"
    with _admin_connection(_url()) as admin:
        data = _stored(admin, template)
        if data is None or os.environ.get("BENCH_SCALE_REBUILD") == "1":
            _drop_stale(admin, f"{bench_name}_scale_")
            data = _build(admin, template, factor)
        else:
            say(f"scale data: reusing template {template} (BENCH_SCALE_REBUILD=1 rebuilds)")
        began = time.perf_counter()
        _drop(admin, copy)
        admin.execute(_sql("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY", copy, template))
        say(f"scale data: copied {template} in {time.perf_counter() - began:.0f} s")
    try:
        with _using(copy):
            yield data
    finally:
        with _admin_connection(_url()) as admin:
            _drop(admin, copy)


def _build(admin, template: str, factor: float):
    """Build the set into `template`; it counts as built once its ScaleData is stored
    with it (a build cut short is dropped as stale by the next run)."""
    from django.core.management import call_command
    from django.db import connection

    from onboarding.management.commands.build_scale_data import build

    admin.execute(_sql("CREATE DATABASE {}", template))
    began = time.perf_counter()
    say(f"scale data: building factor {factor:g} into {template}")
    with _using(template):
        call_command("migrate", interactive=False, verbosity=0)
        data = build(factor, log=say)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    admin.execute(_sql("ALTER DATABASE {} WITH IS_TEMPLATE true", template))
    admin.execute(_sql("COMMENT ON DATABASE {} IS {}", template,
                       _literal(json.dumps(data.as_dict()))))
    say(f"scale data: built factor {factor:g} in {time.perf_counter() - began:.0f} s")
    return data


def _stored(admin, template: str):
    """The ScaleData kept with the template, or None when there is no such template."""
    from onboarding.management.commands.build_scale_data import ScaleData

    row = admin.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                        "WHERE datname = %s AND datistemplate", [template]).fetchone()
    if row is None or not row[0]:
        return None
    return ScaleData(**json.loads(row[0]))


def _drop_stale(admin, prefix: str) -> None:
    """Templates of older sources, and one cut short: only this benchmark's own."""
    for (name,) in admin.execute("SELECT datname FROM pg_database").fetchall():
        if name.startswith(prefix):
            say(f"scale data: dropping {name}")
            admin.execute(_sql("ALTER DATABASE {} WITH IS_TEMPLATE false", name))
            _drop(admin, name)


def _drop(admin, name: str) -> None:
    admin.execute(_sql("DROP DATABASE IF EXISTS {} WITH (FORCE)", name))


@contextmanager
def _using(name: str) -> Iterator[None]:
    """Django's default connection on database `name` while the block runs (every
    connection closed on the way in and out, so none holds a template open)."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connections

    settings_dict = connections["default"].settings_dict
    before = settings_dict["NAME"]
    connections.close_all()
    settings_dict["NAME"] = name
    ContentType.objects.clear_cache()
    try:
        yield
    finally:
        connections.close_all()
        settings_dict["NAME"] = before
        ContentType.objects.clear_cache()


def _url() -> str:
    return os.environ["DATABASE_URL"]


def _sql(template: str, *names: str):
    from psycopg import sql

    return sql.SQL(template).format(*(
        name if isinstance(name, sql.Composable) else sql.Identifier(name) for name in names))


def _literal(text: str):
    from psycopg import sql

    return sql.Literal(text)
