"""A per-process cache of key lookups, kept exact across processes by LISTEN/NOTIFY.

Why: on a 2-core machine one database round trip costs a web process about a quarter of
its throughput, however small the query (bench/keys_verify.py measures it). With the
cache, verifying a known key costs no round trip; a miss costs the one indexed query.

How a change reaches every process before the service that made it returns:

1. A trigger on keys_apikey (migration 0003) notifies channel `api_key_changed` with
   "<secret_hash> <txid>" when a key changes in a way verification sees, or is deleted.
2. Each process that verifies keys runs one listener thread on its own connection,
   named APPLICATION_NAME in pg_stat_activity. On a notification it drops the entry and
   acknowledges on channel `api_key_dropped` with "<txid> <its backend pid>".
3. revoke_key and rotate_key open a DropBarrier before they commit and wait after the
   commit until every listener connected then has acknowledged their transaction, for
   at most KEY_CACHE_ACK_TIMEOUT seconds (a listener that stays silent is logged).
4. The cache answers only while its listener proves, by a round trip, that
   notifications still arrive: every PROOF_SECONDS it sends a NOTIFY to a channel only
   it listens on, stamped with its send time. PostgreSQL delivers notifications in
   commit order, so when that proof comes back every change committed before its send
   time has come back too and been dropped. A lookup that finds the last proof sent
   more than KEY_CACHE_STALE_AFTER ago goes to the database. A barrier waits at least
   that long (plus a margin) before it gives up on a silent listener, so by then the
   silent listener's process has stopped answering from its cache: a revocation never
   returns while a cache that may hold the key still answers. A connection that cannot
   prove itself for DEAD_AFTER seconds is dropped and made anew; TCP keepalives and
   tcp_user_timeout make the operating system notice a dead peer too. A lost connection
   empties the cache.
5. A lookup that missed stores its row only if no change was announced while it
   queried (the generation counter), so a row read just before a revocation cannot
   outlive the revocation's notification. Listening again after a reconnection bumps
   the generation too: a row read while nobody listened may predate a missed change.

Only keys that exist are cached (a new key needs no announcement) and expiry is compared
at each verification, so time passing needs no announcement either. The residual risk:
Postgres taking longer than KEY_CACHE_ACK_TIMEOUT to deliver a notification to a live
listener; the barrier logs a warning naming it. KEY_CACHE=0 turns the cache off, and
tests run without it except keys/tests/test_cache.py. Behind a transaction-mode pooler
(PgBouncer's pool_mode=transaction) LISTEN cannot work: DATABASE_POOL_MODE=transaction
turns the cache off with a log line, and a process whose first proof never comes back
turns its own cache off, with a log line saying why.
"""

import logging
import os
import threading
import time
from collections.abc import Iterable

import psycopg
from django.conf import settings
from django.db import connection, transaction
from prometheus_client import Counter

CHANGED = "api_key_changed"
DROPPED = "api_key_dropped"
APPLICATION_NAME = "portal-key-cache"
PROOF_SECONDS = 0.5  # between round trips proving that notifications still arrive
DEAD_AFTER = 10.0  # seconds without a proof before the connection is made anew
MAX_RETRY_SECONDS = 10.0  # between reconnection attempts while the database is away
# Make the operating system give up on a silent peer within seconds, on both ends
# (ignored on Unix sockets): a dead flow must not hold a listener for TCP's 15 minutes.
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2,
              "keepalives_count": 3, "tcp_user_timeout": 10_000}
SERVER_KEEPALIVES = ("-c tcp_keepalives_idle=5 -c tcp_keepalives_interval=2 "
                     "-c tcp_keepalives_count=3 -c tcp_user_timeout=10000")

log = logging.getLogger(__name__)
LOOKUPS = Counter("portal_key_cache_lookups", "Key lookups answered from this process's key "
                  "cache (hit) or not (miss).", ["result"])
HIT, MISS = LOOKUPS.labels("hit"), LOOKUPS.labels("miss")


class NotProven(Exception):
    """The listener's own notifications stopped coming back."""


def connect() -> psycopg.Connection:
    """A separate autocommit connection to Django's default database, with keepalives."""
    params = {name: value for name, value in connection.get_connection_params().items()
              if name not in ("cursor_factory", "context")}
    params["options"] = f"{params.get('options', '')} {SERVER_KEEPALIVES}".strip()
    return psycopg.connect(**{**KEEPALIVES, **params}, autocommit=True)


class KeyCache:
    """Verified-key rows by secret hash, for one process."""

    def __init__(self, max_entries: int):
        self._entries: dict[str, object] = {}
        self._last_used: dict[int, object] = {}  # key id -> when we last wrote last_used_at
        self._max_entries = max_entries
        self._lock = threading.Lock()
        self._beat = float("-inf")  # time.monotonic() when the last proof that came back
        # was sent: every change committed before it has been dropped
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.generation = 0  # bumped on every drop: a lookup older than it must not store
        self.listener_pid: int | None = None  # the listener's backend pid, once listening
        self.ever_proven = False  # never: LISTEN cannot work here (a transaction pooler)

    # --- the request side ----------------------------------------------------------

    def usable(self) -> bool:
        return time.monotonic() - self._beat < settings.KEY_CACHE_STALE_AFTER

    def get(self, secret_hash: str):
        found = self._entries.get(secret_hash) if self.usable() else None
        (MISS if found is None else HIT).inc()
        return found

    def put(self, secret_hash: str, info, generation: int) -> None:
        """Store a row read while the generation was `generation`, if nothing changed since."""
        with self._lock:
            if generation != self.generation or not self.usable():
                return
            if len(self._entries) >= self._max_entries:
                self._entries.clear()
            self._entries[secret_hash] = info

    def last_used_written(self, key_id: int):
        return self._last_used.get(key_id)

    def note_last_used_written(self, key_id: int, when) -> None:
        if len(self._last_used) >= self._max_entries:
            self._last_used.clear()
        self._last_used[key_id] = when

    # --- the listener --------------------------------------------------------------

    def start(self) -> None:
        """Start the listener thread unless it runs; the cache answers once it listens."""
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._listen, name="key-cache-listener",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._thread = None

    def wait_until_listening(self, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while not self.usable():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def _drop(self, hashes: Iterable[str] = ()) -> None:
        with self._lock:
            self.generation += 1
            for secret_hash in hashes:
                self._entries.pop(secret_hash, None)

    def _forget_everything(self) -> None:
        with self._lock:
            self.generation += 1
            self._beat = float("-inf")
            self._entries.clear()
            self.listener_pid = None

    def _listen(self) -> None:
        retry_after = PROOF_SECONDS
        while not self._stop.is_set():
            try:
                with connect() as conn:
                    conn.execute(f"LISTEN {CHANGED}")
                    # Named only once listening: a barrier counts only listeners that can
                    # hear its change. (One that starts listening after the change
                    # committed but is named before the barrier looks makes the barrier
                    # wait its timeout; rare, logged, and harmless: its cache was empty.)
                    conn.execute("SELECT set_config('application_name', %s, false)",
                                 [APPLICATION_NAME])
                    self.listener_pid = conn.info.backend_pid
                    retry_after = PROOF_SECONDS
                    self._serve(conn)
            except psycopg.Error as error:
                log.warning("key cache listener lost its connection (%s); verifying from "
                            "the database until it reconnects", error.__class__.__name__)
            except NotProven as error:
                if not self.ever_proven:  # LISTEN cannot work here: stop trying
                    self._stop.set()
                    log.warning("key cache off for this process: %s (is DATABASE_URL a "
                                "transaction-mode pooler? then set "
                                "DATABASE_POOL_MODE=transaction); every key is verified "
                                "from the database", error)
                else:
                    log.warning("key cache listener: %s; verifying from the database and "
                                "reconnecting", error)
            except Exception:
                log.exception("key cache listener failed; verifying from the database until "
                              "it restarts")
            finally:
                self._forget_everything()
            self._stop.wait(retry_after)
            retry_after = min(retry_after * 2, MAX_RETRY_SECONDS)

    def _serve(self, conn: psycopg.Connection) -> None:
        alive = f"key_cache_alive_{conn.info.backend_pid}"
        conn.execute(f"LISTEN {alive}")
        self._drop()  # listening again: a row read while nobody listened must not be stored
        connected_at = next_proof = time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_proof:
                conn.execute("SELECT pg_notify(%s, %s)", [alive, repr(now)])
                next_proof = now + PROOF_SECONDS
            if now - max(self._beat, connected_at) > DEAD_AFTER:
                raise NotProven(
                    f"its own notifications have not come back for {DEAD_AFTER:g} s"
                    if self._beat > connected_at else
                    f"its first notification did not come back in {DEAD_AFTER:g} s")
            changed, proofs = [], []
            for notify in conn.notifies(timeout=max(next_proof - now, 0.01), stop_after=1):
                (proofs if notify.channel == alive else changed).append(notify.payload)
            if changed:
                batch = [payload.split() for payload in changed]
                self._drop(secret_hash for secret_hash, _ in batch)
                for txid in dict.fromkeys(txid for _, txid in batch):
                    conn.execute("SELECT pg_notify(%s, %s)",
                                 [DROPPED, f"{txid} {self.listener_pid}"])
            if proofs:  # after the drops: a proof vouches for what came before it
                self._beat = max(self._beat, *map(float, proofs))
                self.ever_proven = True


class DropBarrier:
    """Listens for the caches' acknowledgements before a key change commits, and after it
    commits waits until every listener has dropped the changed keys.

    Open it inside the service's transaction, before the change; call `wait_on_commit`
    with the transaction's id."""

    def __init__(self):
        self._conn = connect()
        self._conn.execute(f"LISTEN {DROPPED}")

    def wait_on_commit(self, txid: int) -> None:
        transaction.on_commit(lambda: self.wait(txid))

    def wait(self, txid: int) -> set[int]:
        """Block until every listener acknowledged txid; return the pids that did not.
        Closes the barrier's connection: a barrier waits once."""
        try:
            expected = {pid for (pid,) in self._conn.execute(
                "SELECT pid FROM pg_stat_activity "
                "WHERE application_name = %s AND datname = current_database()",
                [APPLICATION_NAME])}
            waiting_for = set(expected)
            # Never give up before a silent listener's cache has stopped answering.
            timeout = max(settings.KEY_CACHE_ACK_TIMEOUT, settings.KEY_CACHE_STALE_AFTER + 0.1)
            deadline = time.monotonic() + timeout
            while waiting_for and (remaining := deadline - time.monotonic()) > 0:
                for notify in self._conn.notifies(timeout=remaining, stop_after=1):
                    acked_txid, pid = notify.payload.split()
                    if acked_txid == str(txid):
                        waiting_for.discard(int(pid))
            if waiting_for:
                log.warning("key caches %s did not acknowledge change %s within %s s; "
                            "they have stopped answering from their caches",
                            sorted(waiting_for), txid, timeout)
            log.debug("%d of %d key caches acknowledged change %s",
                      len(expected - waiting_for), len(expected), txid)
            return waiting_for
        finally:
            self._conn.close()


_process_cache: KeyCache | None = None
_creating = threading.Lock()


def _forget_after_fork() -> None:
    # A forked child (a gunicorn worker) must not answer from its parent's entries: their
    # listener thread does not exist in the child.
    global _process_cache, _creating
    _process_cache = None
    _creating = threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)


_said_pooler = False


def current() -> KeyCache | None:
    """This process's cache, its listener started on first use; None without KEY_CACHE or
    behind a transaction-mode pooler."""
    global _process_cache, _said_pooler
    if not settings.KEY_CACHE:
        return None
    if settings.DATABASE_POOL_MODE == "transaction":
        if not _said_pooler:
            _said_pooler = True
            log.warning("key cache off: DATABASE_POOL_MODE=transaction, and LISTEN needs a "
                        "session; every key is verified from the database")
        return None
    if _process_cache is None:
        with _creating:  # threaded servers: one cache, one listener per process
            if _process_cache is None:
                cache = KeyCache(settings.KEY_CACHE_MAX_ENTRIES)
                cache.start()
                _process_cache = cache
    return _process_cache


def reset() -> None:
    """Stop this process's listener and forget its cache (tests)."""
    global _process_cache
    if _process_cache is not None:
        _process_cache.stop()
    _process_cache = None
