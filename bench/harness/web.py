"""The project under gunicorn on a loopback port, and HTTP load against it: wrk when
installed, else Python threads with keep-alive connections."""

import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.harness.measures import BenchError, Measure
from portal.devservices import stop_groups

BASE_DIR = Path(__file__).resolve().parents[2]
LOOPBACK = "127.0.0.1"
MAX_SECONDS = 60.0  # per load run: a benchmark never hammers anything for long
MAX_CONNECTIONS = 64
MAX_REQUESTS = 500_000


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    log: Path

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Request:
    """One HTTP request to repeat: GET by default, or e.g. a POST with a JSON body."""

    path: str
    method: str = "GET"
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


def fetch(server: Server, request: Request | str, timeout: float = 10.0) -> tuple[int, bytes]:
    """Send one request (or GET a path): (status, body)."""
    request = Request(request) if isinstance(request, str) else request
    conn = http.client.HTTPConnection(server.host, server.port, timeout=timeout)
    try:
        conn.request(request.method, request.path, body=request.body, headers=request.headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@contextmanager
def serve(*, workers: int = 2, ready_path: str = "/docs/", env: dict[str, str] | None = None,
          start_timeout: float = 30.0) -> Iterator[Server]:
    """The project under `gunicorn portal.wsgi` on a free loopback port, with this run's
    database, DEBUG=0 and persistent connections; stopped (SIGTERM, then SIGKILL) after."""
    fd, log_path = tempfile.mkstemp(prefix="bench-gunicorn-", suffix=".log")
    os.close(fd)
    server = Server(LOOPBACK, free_port(), Path(log_path))
    child_env = {**os.environ, "DEBUG": "0", "ALLOWED_HOSTS": LOOPBACK,
                 "CONN_MAX_AGE": "600", **(env or {})}
    cmd = [sys.executable, "-m", "gunicorn", "portal.wsgi", "-w", str(workers),
           "-b", f"{server.host}:{server.port}", "--graceful-timeout", "5",
           "--log-level", "warning", "--error-logfile", str(server.log)]
    with server.log.open("ab") as log:
        proc = subprocess.Popen(cmd, cwd=BASE_DIR, env=child_env, stdin=subprocess.DEVNULL,
                                stdout=log, stderr=log, process_group=0)
    ok = False
    try:
        _wait_until_ready(server, proc, ready_path, start_timeout)
        yield server
        ok = True
    finally:
        stop_groups([proc])
        if ok:
            server.log.unlink(missing_ok=True)
        else:
            print(f"gunicorn log kept at {server.log}; its end:\n{_tail(server.log)}")


def _wait_until_ready(server: Server, proc: subprocess.Popen, path: str,
                      timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise BenchError(f"gunicorn exited with code {proc.returncode}")
        try:
            status, _ = fetch(server, path, timeout=2.0)
        except OSError:
            status = 0
        if 200 <= status < 500:
            return
        if time.monotonic() > deadline:
            raise BenchError(f"gunicorn did not answer {path} within {timeout:.0f} s "
                             f"(last status {status})")
        time.sleep(0.1)


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# --- HTTP load ---------------------------------------------------------------

@dataclass(frozen=True)
class Load:
    tool: str
    request: Request
    connections: int
    requests: int
    bad: int  # python: non-2xx and failed requests; wrk: non-2xx/3xx and socket errors
    seconds: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def measure(self, label: str | None = None) -> Measure:
        return Measure(label or f"{self.request.method} {self.request.path}", self.rps, "req/s",
                       f"{self.requests:,} requests, {self.bad} bad, {self.tool}, "
                       f"{self.connections} connections")


def load(server: Server, request: Request | str, *, seconds: float = 5.0,
         connections: int = 4, warmup: float = 1.0, max_requests: int = MAX_REQUESTS,
         tool: str | None = None) -> Load:
    """Repeat a request (or GET a path) on the served app for a fixed time from
    `connections` keep-alive connections, after `warmup` seconds of the same; by wrk if
    installed, else by Python threads. Checks first that it answers 2xx (a throughput of
    redirects or errors measures nothing) and fails if over 1% of answers under load are bad."""
    request = Request(request) if isinstance(request, str) else request
    if server.host != LOOPBACK:
        raise BenchError("load runs against loopback only")
    seconds = min(seconds, MAX_SECONDS)
    connections = max(1, min(connections, MAX_CONNECTIONS))
    status, _ = fetch(server, request)
    if not 200 <= status < 300:
        raise BenchError(f"{request.method} {request.path} answered {status}, not 2xx: "
                         "nothing to measure")
    tool = tool or ("wrk" if shutil.which("wrk") else "python")
    run = _wrk if tool == "wrk" else _python_load
    if warmup > 0:
        run(server, request, min(warmup, MAX_SECONDS), connections, max_requests)
    result = run(server, request, seconds, connections, max_requests)
    if result.bad > result.requests / 100:
        raise BenchError(f"{result.bad} bad answers in {result.requests} requests to "
                         f"{request.path}; see {server.log}")
    return result


def _python_load(server: Server, request: Request, seconds: float, connections: int,
                 max_requests: int) -> Load:
    per_connection = max(1, max_requests // connections)
    counts = [[0, 0] for _ in range(connections)]  # [good, bad] per thread
    start = threading.Event()
    stop_at = [0.0]

    def client(tally: list[int]) -> None:
        # http.client keeps the connection open and reopens it when the server closes it
        # (gunicorn's sync workers answer `Connection: close`).
        conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
        start.wait()
        try:
            while tally[0] + tally[1] < per_connection and time.monotonic() < stop_at[0]:
                try:
                    conn.request(request.method, request.path, body=request.body,
                                 headers=request.headers)
                    response = conn.getresponse()
                    response.read()
                    tally[0 if 200 <= response.status < 300 else 1] += 1
                except (OSError, http.client.HTTPException):
                    tally[1] += 1
                    conn.close()
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(tally,), daemon=True) for tally in counts]
    for thread in threads:
        thread.start()
    began = time.monotonic()
    stop_at[0] = began + seconds
    start.set()
    for thread in threads:
        thread.join(seconds + 30)
    elapsed = time.monotonic() - began
    good, bad = sum(c[0] for c in counts), sum(c[1] for c in counts)
    return Load("python", request, connections, good + bad, bad, elapsed)


_WRK_REQUESTS = re.compile(r"(\d+) requests in ([\d.]+)(us|ms|s|m|h)")
_WRK_NON_2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
_WRK_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_UNIT_SECONDS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def _wrk(server: Server, request: Request, seconds: float, connections: int,
         max_requests: int) -> Load:
    # wrk has no request cap; its duration bounds the run. Method and body go in a script.
    with tempfile.NamedTemporaryFile("w", prefix="bench-wrk-", suffix=".lua") as script:
        script.write(f"wrk.method = {_lua_string(request.method.encode())}\n")
        if request.body is not None:
            script.write(f"wrk.body = {_lua_string(request.body)}\n")
        for name, value in request.headers.items():
            script.write(f"wrk.headers[{_lua_string(name.encode())}] = "
                         f"{_lua_string(value.encode())}\n")
        script.flush()
        cmd = ["wrk", f"-t{min(2, connections)}", f"-c{connections}",
               f"-d{max(1, round(seconds))}s", "--timeout", "10s", "-s", script.name,
               server.url(request.path)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30,
                              check=False)
    match = _WRK_REQUESTS.search(done.stdout)
    if done.returncode != 0 or match is None:
        raise BenchError(f"wrk failed ({done.returncode}): {done.stdout}{done.stderr}")
    bad = sum(int(n) for n in _WRK_NON_2XX.findall(done.stdout))
    socket_errors = _WRK_SOCKET.search(done.stdout)
    if socket_errors:
        bad += sum(int(n) for n in socket_errors.groups())
    return Load("wrk", request, connections, int(match[1]), bad,
                float(match[2]) * _UNIT_SECONDS[match[3]])


def _lua_string(data: bytes) -> str:
    """A Lua string literal of data: printable ASCII kept, every other byte as \\ddd."""
    return '"' + "".join(chr(b) if 32 <= b < 127 and b not in b'"\\' else f"\\{b:03d}"
                         for b in data) + '"'


def load_tool() -> str:
    return "wrk" if shutil.which("wrk") else "python threads (wrk not installed)"

