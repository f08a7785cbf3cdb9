import http.server
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.utils import timezone

from webhooks import services


def approve_sandbox(workspace):
    """Grant sandbox access the way the onboarding review does, without the review."""
    workspace.sandbox_approved_at = timezone.now()
    workspace.save(update_fields=["sandbox_approved_at"])
    return workspace


def add_endpoint(workspace, actor, url, *, environment="sandbox",
                 event_types=("key.created", "key.revoked", "webhook.test")):
    """A real endpoint through the service."""
    return services.create_endpoint(actor=actor, workspace=workspace, environment=environment,
                                    url=url, event_types=list(event_types))


@dataclass
class Receiver:
    """A real HTTP server on loopback: answers from `replies` in order (then 200) and
    keeps every request it got as (headers, body)."""

    port: int = 0
    replies: list = field(default_factory=list)
    received: list = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"


@contextmanager
def receiver(port: int = 0):
    state = Receiver()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            status, headers, text = state.replies.pop(0) if state.replies else (200, {}, "ok")
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            payload = text.encode()
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
