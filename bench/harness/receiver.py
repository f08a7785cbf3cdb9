"""A loopback webhook receiver in a process of its own, counting POSTs by webhook-id."""

import http.server
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class Receiver:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.posts = 0
        self.ids: set[str] = set()
        self.first_seen: dict[str, float] = {}  # webhook-id -> time.monotonic() of arrival
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def distinct(self) -> int:
        with self.lock:
            return len(self.ids)

    def wait_for(self, count: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.distinct() < count:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True


class _Server(http.server.ThreadingHTTPServer):
    # socketserver's default backlog of 5 drops connections beyond it; the kernel's SYN
    # retry then adds a second to each, which no real receiver would.
    request_queue_size = 256
    daemon_threads = True


def serve_receiver() -> None:
    """The receiver's process: answers 200 to every POST; prints its port, then each
    POST's webhook-id and arrival time (time.monotonic(): one clock for every process)."""
    printing = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            arrived = time.monotonic()
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
            with printing:
                print(self.headers.get("webhook-id", ""), arrived, flush=True)

        def log_message(self, *args):
            pass

    server = _Server(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


@contextmanager
def receiver():
    """A receiver in a process of its own, as a real one is: its threads do not compete
    with the engine (or the plain loop) for this process's interpreter lock."""
    state = Receiver()
    proc = subprocess.Popen(
        [sys.executable, "-c", "from bench.harness.receiver import serve_receiver; "
                               "serve_receiver()"], cwd=ROOT, stdout=subprocess.PIPE)
    state.port = int(proc.stdout.readline())

    def follow() -> None:
        for line in proc.stdout:
            webhook_id, _, arrived = line.decode().rstrip("\n").rpartition(" ")
            with state.lock:
                state.posts += 1
                state.ids.add(webhook_id)
                state.first_seen.setdefault(webhook_id, float(arrived))

    thread = threading.Thread(target=follow, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        proc.terminate()
        proc.wait(10)
        thread.join(10)
