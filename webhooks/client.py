"""The pinned HTTP client of webhook deliveries: one POST, never following redirects.

It resolves the host itself, checks every address with `urlguard` and connects only to
those checked addresses, so a name that changes between check and connect (rebinding)
cannot reach a private network. Every failure becomes an `Outcome`, never an exception.

One wall-clock deadline bounds the whole attempt: resolving, every address tried,
connecting, TLS, sending, the status line, the headers and the excerpt. Each socket
operation gets only what is left of it, so a receiver trickling one byte at a time
cannot hold a worker for longer than the deadline.
"""

import socket
import ssl
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from webhooks.urlguard import DEFAULT_PORTS, UnsafeURL, resolve_and_check

EXCERPT_BYTES = 2048
MAX_HEADER_BYTES = 16 * 1024  # status line and headers together
MAX_HEADERS = 100
USER_AGENT = "DeveloperPortal-Webhooks/1.0"
_READ = 4096

# getaddrinfo cannot be interrupted; it runs here so the attempt can stop waiting for it.
_resolvers = ThreadPoolExecutor(max_workers=8, thread_name_prefix="webhook-resolve")


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


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.started = time.monotonic()
        self.at = self.started + seconds

    def left(self) -> float:
        """Seconds left; TimeoutError once none are."""
        left = self.at - time.monotonic()
        if left <= 0:
            raise TimeoutError
        return left

    def elapsed_ms(self) -> int:
        return round((time.monotonic() - self.started) * 1000)


class _BadResponse(Exception):
    pass


def _resolve(*args):
    return socket.getaddrinfo(*args)


def _addresses(host: str, port: int, deadline: _Deadline) -> list[str]:
    # Checked again at every attempt: the name may point elsewhere since it was saved.
    future = _resolvers.submit(resolve_and_check, host, port, resolver=_resolve,
                               allow_loopback=settings.WEBHOOKS_ALLOW_LOOPBACK)
    try:
        return future.result(timeout=deadline.left())
    except FutureTimeout:
        raise TimeoutError from None


def _connect(addresses: list[str], port: int, deadline: _Deadline) -> socket.socket:
    error: OSError = OSError("no address to connect to")
    for address in addresses:
        try:
            sock = socket.create_connection((address, port), timeout=deadline.left())
        except TimeoutError:
            raise
        except OSError as failed:
            error = failed
            continue
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    raise error


def _request(method: str, host: str, port: int, scheme: str, path: str,
             headers: dict[str, str], body: bytes) -> bytes:
    shown = f"[{host}]" if ":" in host else host
    if port != DEFAULT_PORTS[scheme]:
        shown = f"{shown}:{port}"
    lines = [f"{method} {path} HTTP/1.1", f"Host: {shown}", f"Content-Length: {len(body)}",
             "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _recv(sock: socket.socket, deadline: _Deadline, size: int = _READ) -> bytes:
    sock.settimeout(deadline.left())
    return sock.recv(size)


def _read_head(sock: socket.socket, deadline: _Deadline) -> tuple[int, dict[str, str], bytes]:
    """(status, headers with lower-case names, body bytes already read)."""
    buffer = b""
    while b"\r\n\r\n" not in buffer:
        if len(buffer) > MAX_HEADER_BYTES:
            raise _BadResponse(f"its headers exceed {MAX_HEADER_BYTES // 1024} KB")
        chunk = _recv(sock, deadline)
        if not chunk:
            raise _BadResponse("the connection closed before the headers ended")
        buffer += chunk
    head, rest = buffer.split(b"\r\n\r\n", 1)
    if len(head) > MAX_HEADER_BYTES:
        raise _BadResponse(f"its headers exceed {MAX_HEADER_BYTES // 1024} KB")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    if len(header_lines) > MAX_HEADERS:
        raise _BadResponse(f"it sent more than {MAX_HEADERS} headers")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit() \
            or len(parts[1]) != 3:
        raise _BadResponse(f"its status line is not HTTP: {status_line[:80]!r}")
    headers: dict[str, str] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers, rest


def _read_excerpt(sock: socket.socket, headers: dict[str, str], first: bytes,
                  deadline: _Deadline) -> bytes:
    length = headers.get("content-length", "")
    limit = min(int(length), EXCERPT_BYTES) if length.isdigit() else EXCERPT_BYTES
    chunked = "chunked" in headers.get("transfer-encoding", "").lower()
    # A chunked body carries its chunk sizes: read a little more, then strip them.
    wanted = limit + 64 if chunked else limit
    data = first
    while len(data) < wanted:
        chunk = _recv(sock, deadline, wanted - len(data))
        if not chunk:
            break
        data += chunk
    return (_dechunk(data) if chunked else data)[:limit]


def _dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, sep, data = data.partition(b"\r\n")
        try:
            size = int(size_line.split(b";")[0], 16)
        except ValueError:
            break
        if not sep or size == 0:
            break
        out += data[:size]
        data = data[size + 2:]
    return out


def deadline_seconds() -> float:
    """How long one attempt may take in all (settings.WEBHOOK_ATTEMPT_DEADLINE)."""
    return float(settings.WEBHOOK_ATTEMPT_DEADLINE)


def post(url: str, headers: dict[str, str], body: bytes, *,
         timeout: float | None = None) -> Outcome:
    """POST once within `timeout` seconds in all (the configured deadline by default),
    never following redirects; every failure becomes an Outcome."""
    timeout = deadline_seconds() if timeout is None else timeout
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    port = parts.port or DEFAULT_PORTS[scheme]
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    deadline = _Deadline(timeout)
    sock = None
    try:
        sock = _connect(_addresses(host, port, deadline), port, deadline)
        if scheme == "https":
            sock.settimeout(deadline.left())
            # CPython bounds the whole handshake by the socket's timeout, not each read.
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
        sock.settimeout(deadline.left())
        sock.sendall(_request("POST", host, port, scheme, path, headers, body))
        status, response_headers, rest = _read_head(sock, deadline)
        excerpt = _read_excerpt(sock, response_headers, rest, deadline)
        return Outcome(status, deadline.elapsed_ms(), "", excerpt.decode("utf-8", "replace"),
                       response_headers.get("retry-after"))
    except UnsafeURL as error:
        return Outcome(None, deadline.elapsed_ms(), f"Refused: {error.message}")
    except TimeoutError:
        return Outcome(None, deadline.elapsed_ms(), f"Timed out after {timeout:g} s")
    except _BadResponse as error:
        return Outcome(None, deadline.elapsed_ms(), f"Unreadable response: {error}"[:500])
    except ssl.SSLError as error:
        return Outcome(None, deadline.elapsed_ms(), f"TLS error: {error}"[:500])
    except OSError as error:
        return Outcome(None, deadline.elapsed_ms(),
                       f"Connection failed: {error or type(error).__name__}"[:500])
    finally:
        if sock is not None:
            sock.close()
