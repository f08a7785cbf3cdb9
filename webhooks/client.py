"""The pinned HTTP client of webhook deliveries: one POST, never following redirects.

It resolves the host itself, checks every address with `urlguard` and connects only to
those checked addresses, so a name that changes between check and connect (rebinding)
cannot reach a private network. Every failure becomes an `Outcome`, never an exception.
"""

import http.client
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from webhooks.urlguard import DEFAULT_PORTS, UnsafeURL, resolve_and_check

TIMEOUT = 15.0
EXCERPT_BYTES = 2048
USER_AGENT = "DeveloperPortal-Webhooks/1.0"


@dataclass(frozen=True)
class Outcome:
    status_code: int | None = None
    latency_ms: int = 0
    error: str = ""
    excerpt: str = ""
    retry_after: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to addresses already checked, never re-resolving the host name; the
    Host header still names the host."""

    def __init__(self, host, port, addresses, timeout):
        super().__init__(host, port, timeout=timeout)
        self._addresses = addresses

    def _open(self) -> socket.socket:
        error = OSError("no address to connect to")
        for address in self._addresses:
            try:
                return socket.create_connection((address, self.port), self.timeout)
            except OSError as failed:
                error = failed
        raise error

    def connect(self):
        self.sock = self._open()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As above, with TLS verified against the host name (SNI and certificate)."""

    def __init__(self, host, port, addresses, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._addresses = addresses

    _open = _PinnedHTTPConnection._open

    def connect(self):
        self.sock = self._context.wrap_socket(self._open(), server_hostname=self.host)


def _resolve(*args):
    return socket.getaddrinfo(*args)


def post(url: str, headers: dict[str, str], body: bytes, *,
         timeout: float = TIMEOUT) -> Outcome:
    """POST once, never following redirects; every failure becomes an Outcome."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or DEFAULT_PORTS[scheme]
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    started = time.monotonic()
    conn = None

    def elapsed() -> int:
        return round((time.monotonic() - started) * 1000)

    try:
        # Checked again at every attempt: the name may point elsewhere since it was saved.
        addresses = resolve_and_check(parts.hostname, port, resolver=_resolve,
                                      allow_loopback=settings.WEBHOOKS_ALLOW_LOOPBACK)
        connection = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
        conn = connection(parts.hostname, port, addresses, timeout)
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        excerpt = response.read(EXCERPT_BYTES)
        return Outcome(response.status, elapsed(), "", excerpt.decode("utf-8", "replace"),
                       response.getheader("Retry-After"))
    except UnsafeURL as error:
        return Outcome(None, elapsed(), f"Refused: {error.message}")
    except TimeoutError:
        return Outcome(None, elapsed(), f"Timed out after {timeout:g} s")
    except ssl.SSLError as error:
        return Outcome(None, elapsed(), f"TLS error: {error}"[:500])
    except (OSError, http.client.HTTPException) as error:
        return Outcome(None, elapsed(), f"Connection failed: {error or type(error).__name__}"
                       [:500])
    finally:
        if conn is not None:
            conn.close()
