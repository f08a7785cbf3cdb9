"""The per-process key cache (keys/cache.py) against real PostgreSQL: committed data,
real listener threads, and a second real process."""

import logging
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from keys import cache as key_cache
from keys import secrets, services
from keys.models import ApiKey
from keys.selectors import lookup, verify
from keys.tests.factories import approve_sandbox, issue

pytestmark = pytest.mark.django_db(transaction=True)

BASE_DIR = Path(settings.BASE_DIR)


@pytest.fixture
def cache_on(settings):
    settings.KEY_CACHE = True
    key_cache.reset()
    cache = key_cache.current()
    assert cache.wait_until_listening()
    yield cache
    key_cache.reset()


@pytest.fixture
def key(workspace, owner):
    return issue(approve_sandbox(workspace), owner)


def test_a_key_verified_once_is_answered_without_a_query(cache_on, key,
                                                         django_assert_num_queries):
    _, secret = key
    with django_assert_num_queries(2):  # the lookup, and the first last_used_at write
        assert verify(secret).code == "VALID"
    with django_assert_num_queries(0):
        assert verify(secret).code == "VALID"
        assert verify(secret, environment="production").code == "WRONG_ENVIRONMENT"
        assert verify(secret, scope="webhooks:write").code == "FORBIDDEN"


def test_unknown_keys_are_never_cached(cache_on, django_assert_num_queries):
    other = secrets.generate("sandbox")
    for _ in range(2):
        with django_assert_num_queries(1):
            assert verify(other).code == "NOT_FOUND"


def test_revocation_returns_only_once_this_process_dropped_the_key(cache_on, key, owner,
                                                                  caplog):
    api_key, secret = key
    assert verify(secret).code == "VALID"
    with caplog.at_level(logging.DEBUG, logger="keys.cache"):
        services.revoke_key(actor=owner, workspace=api_key.workspace,
                            public_id=api_key.public_id)
    assert "1 of 1 key caches acknowledged" in caplog.text
    assert verify(secret).code == "REVOKED"


def test_rotation_with_no_overlap_ends_the_cached_old_key_at_once(cache_on, key, owner):
    api_key, old_secret = key
    assert verify(old_secret).code == "VALID"
    _, new_secret = services.rotate_key(actor=owner, workspace=api_key.workspace,
                                        public_id=api_key.public_id, overlap=timedelta(0))
    assert verify(old_secret).code == "EXPIRED"
    assert verify(new_secret).code == "VALID"


def test_expiry_is_checked_at_each_verification_not_when_cached(cache_on, workspace, owner):
    now = timezone.now()
    _, secret = issue(approve_sandbox(workspace), owner, expires_at=now + timedelta(hours=1))
    assert verify(secret, now=now).code == "VALID"
    assert verify(secret, now=now + timedelta(hours=2)).code == "EXPIRED"


def test_a_row_read_before_a_change_is_not_stored_after_it(cache_on, key):
    _, secret = key
    generation = cache_on.generation
    info = lookup(secret)  # stored: nothing changed since the generation was read
    cache_on.put("other-hash", info, generation - 1)  # read before some drop: refused
    assert cache_on.get("other-hash") is None
    assert cache_on.get(info_hash(secret)) == info


def info_hash(secret: str) -> str:
    return secrets.hash_key(secret, services.pepper())


def test_a_cache_whose_listener_is_silent_stops_answering(cache_on, key, settings,
                                                          django_assert_num_queries):
    _, secret = key
    verify(secret)
    settings.KEY_CACHE_STALE_AFTER = 0  # the last beat is now always too old
    with django_assert_num_queries(1):
        assert verify(secret).code == "VALID"


def test_a_lost_listener_connection_empties_the_cache_and_reconnects(cache_on, key,
                                                                     django_assert_num_queries):
    _, secret = key
    verify(secret)
    first_pid = cache_on.listener_pid
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [first_pid])
    assert _eventually(lambda: cache_on.listener_pid not in (None, first_pid))
    assert cache_on.wait_until_listening()
    with django_assert_num_queries(1):  # forgotten with the connection: looked up again
        assert verify(secret).code == "VALID"
    with django_assert_num_queries(0):
        assert verify(secret).code == "VALID"


def test_a_listener_that_never_acknowledges_delays_revocation_only_by_the_timeout(
        cache_on, key, owner, settings, caplog):
    api_key, secret = key
    settings.KEY_CACHE_ACK_TIMEOUT = 0.3
    silent = key_cache.connect()
    silent_pid = silent.info.backend_pid
    silent.execute(f"LISTEN {key_cache.CHANGED}")
    silent.execute("SELECT set_config('application_name', %s, false)",
                   [key_cache.APPLICATION_NAME])
    try:
        with caplog.at_level(logging.WARNING, logger="keys.cache"):
            services.revoke_key(actor=owner, workspace=api_key.workspace,
                                public_id=api_key.public_id)
    finally:
        silent.close()
    assert f"[{silent_pid}] did not acknowledge" in caplog.text
    assert verify(secret).code == "REVOKED"


def test_another_process_refuses_a_revoked_key_on_its_very_next_request(key, owner,
                                                                        settings, caplog):
    """The other process answers from its cache before the revocation, and refuses the
    key on the request right after revoke_key returns: revoke_key waited for its
    listener to drop the key."""
    settings.KEY_CACHE = True
    api_key, secret = key
    with OtherProcess() as ask:
        assert ask(secret) == ("VALID", 2)  # looked up, last_used_at written
        assert ask(secret) == ("VALID", 0)  # from its cache
        with caplog.at_level(logging.DEBUG, logger="keys.cache"):
            services.revoke_key(actor=owner, workspace=api_key.workspace,
                                public_id=api_key.public_id)
        assert "1 of 1 key caches acknowledged" in caplog.text
        assert ask(secret) == ("REVOKED", 1)


def _eventually(condition, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


class OtherProcess:
    """keys/tests/verifier_process.py on this test's database."""

    def __enter__(self):
        db = connection.settings_dict
        url = (f"postgres://{quote(db['USER'] or '', safe='')}:"
               f"{quote(db['PASSWORD'] or '', safe='')}@{quote(db['HOST'] or '', safe='')}:"
               f"{db['PORT'] or 5432}/{db['NAME']}")
        env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": url, "KEY_CACHE": "1",
               "API_KEY_PEPPER": settings.API_KEY_PEPPER, "PYTHONPATH": str(BASE_DIR)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "keys.tests.verifier_process"], cwd=BASE_DIR, env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "ready"
        return self.ask

    def ask(self, secret: str) -> tuple[str, int]:
        self.proc.stdin.write(secret + "\n")
        self.proc.stdin.flush()
        code, queries = self.proc.stdout.readline().split()
        return code, int(queries)

    def __exit__(self, *exc):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)



def test_only_changes_that_verification_sees_are_announced(key):
    api_key, _ = key
    listener = key_cache.connect()
    listener.execute(f"LISTEN {key_cache.CHANGED}")
    try:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=timezone.now(),
                                                     name="renamed")
        assert list(listener.notifies(timeout=0.3)) == []

        ApiKey.objects.filter(pk=api_key.pk).update(revoked_at=timezone.now())
        (announced,) = listener.notifies(timeout=5, stop_after=1)
        secret_hash, txid = announced.payload.split()
        assert secret_hash == api_key.secret_hash and txid.isdigit()
    finally:
        listener.close()


def _in_listener() -> bool:
    return threading.current_thread().name == "key-cache-listener"


def test_a_listener_whose_notifications_stop_arriving_never_answers_a_revoked_key(
        cache_on, key, owner, settings, monkeypatch, caplog, django_assert_num_queries):
    # given a key answered from the cache, and then a listener that hears nothing more
    api_key, secret = key
    assert verify(secret).code == "VALID"
    with django_assert_num_queries(0):
        assert verify(secret).code == "VALID"
    settings.KEY_CACHE_STALE_AFTER = 0.5
    settings.KEY_CACHE_ACK_TIMEOUT = 0.2
    deaf = threading.Event()
    monkeypatch.setattr(psycopg.Connection, "notifies", _dead_notifies(deaf))
    assert deaf.wait(5)  # the listener now waits on the dead flow

    # when the key is revoked
    with caplog.at_level(logging.WARNING, logger="keys.cache"):
        services.revoke_key(actor=owner, workspace=api_key.workspace,
                            public_id=api_key.public_id)

    # then the barrier said whom it gave up on, and the very next verify refuses the key
    assert f"[{cache_on.listener_pid}] did not acknowledge" in caplog.text
    assert verify(secret).code == "REVOKED"

    # and once notifications arrive again the cache answers again
    monkeypatch.undo()
    assert cache_on.wait_until_listening()
    verify(secret)
    with django_assert_num_queries(0):
        assert verify(secret).code == "REVOKED"


def _dead_notifies(deaf: threading.Event):
    """The listener's connection still sends, but nothing comes back: a half-dead TCP
    flow, modelled at the psycopg boundary. Other connections work."""
    real = psycopg.Connection.notifies

    def notifies(self, *, timeout=None, stop_after=None):
        if _in_listener():
            deaf.set()
            time.sleep(min(timeout or 0.5, 0.5))
            return iter(())
        return real(self, timeout=timeout, stop_after=stop_after)

    return notifies


def test_a_row_read_while_nobody_listened_is_not_stored_once_listening_resumes(
        cache_on, key, monkeypatch):
    # given a listener that cannot reconnect for a while
    _, secret = key
    refused = threading.Event()
    refused.set()
    real_connect = psycopg.connect

    def connect(*args, **kwargs):
        if _in_listener() and refused.is_set():
            raise psycopg.OperationalError("connection refused")
        return real_connect(*args, **kwargs)

    monkeypatch.setattr(psycopg, "connect", connect)
    lost_pid = cache_on.listener_pid
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [lost_pid])
    assert _eventually(lambda: cache_on.listener_pid is None)

    # when a lookup reads its row while nobody listens, and stores it after listening resumed
    generation = cache_on.generation
    info = lookup(secret)
    refused.clear()
    assert cache_on.wait_until_listening()
    cache_on.put(info_hash(secret), info, generation)

    # then it was not stored: a change may have been missed while nobody listened
    assert cache_on.get(info_hash(secret)) is None


def test_the_listener_connection_has_keepalives_and_a_user_timeout(db):
    conn = key_cache.connect()
    try:
        parameters = conn.info.get_parameters()
        server = {name: conn.execute(f"SHOW {name}").fetchone()[0]
                  for name in ("tcp_keepalives_idle", "tcp_user_timeout")}
    finally:
        conn.close()
    assert (parameters["keepalives"], parameters["keepalives_idle"],
            parameters["tcp_user_timeout"]) == ("1", "5", "10000")
    assert server == {"tcp_keepalives_idle": "5", "tcp_user_timeout": "10000"}


def test_behind_a_transaction_mode_pooler_the_cache_is_off_and_says_so(
        key, settings, monkeypatch, caplog, django_assert_num_queries):
    settings.KEY_CACHE = True
    settings.DATABASE_POOL_MODE = "transaction"
    monkeypatch.setattr(key_cache, "_said_pooler", False)
    key_cache.reset()
    _, secret = key

    with caplog.at_level(logging.WARNING, logger="keys.cache"):
        assert key_cache.current() is None
    assert "key cache off: DATABASE_POOL_MODE=transaction" in caplog.text
    verify(secret)
    with django_assert_num_queries(1):
        assert verify(secret).code == "VALID"


def test_hits_and_misses_are_counted_for_the_metrics(cache_on, key):
    from prometheus_client import REGISTRY

    def count(result):
        return REGISTRY.get_sample_value("portal_key_cache_lookups_total", {"result": result})

    _, secret = key
    hits, misses = count("hit") or 0, count("miss") or 0
    verify(secret)
    verify(secret)
    verify(secret)
    assert (count("hit") - hits, count("miss") - misses) == (2, 1)


def test_a_process_whose_first_proof_never_comes_back_turns_its_cache_off(
        key, settings, monkeypatch, caplog, django_assert_num_queries):
    # given a connection on which LISTEN never hears anything, as through a
    # transaction-mode pooler, and no setting saying so
    settings.KEY_CACHE = True
    monkeypatch.setattr(key_cache, "DEAD_AFTER", 0.3)
    monkeypatch.setattr(psycopg.Connection, "notifies", _dead_notifies(threading.Event()))
    key_cache.reset()
    _, secret = key

    # when its listener has waited for its first proof
    with caplog.at_level(logging.WARNING, logger="keys.cache"):
        cache = key_cache.current()
        assert _eventually(lambda: "key cache off for this process" in caplog.text)
    cache._thread.join(timeout=5)

    # then it stopped listening, and every verification asks the database
    try:
        assert "transaction-mode pooler" in caplog.text
        assert not cache._thread.is_alive() and cache.listener_pid is None
        verify(secret)  # looked up; writes last_used_at
        for _ in range(2):
            with django_assert_num_queries(1):
                assert verify(secret).code == "VALID"
    finally:
        key_cache.reset()
