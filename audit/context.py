"""Who and where a change came from: the audit context of the current request.

`AuditContextMiddleware` binds it for each request, so services take `actor` and their
own arguments and `audit.services.record` reads the IP, user agent and request id here.
Outside a request (tasks, the shell) the context is empty unless a caller binds one.
"""

import ipaddress
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest

USER_AGENT_MAX = 512


@dataclass(frozen=True)
class AuditContext:
    """The request facts an audit row keeps; empty values outside a request."""

    ip: str | None = None
    user_agent: str = ""
    request_id: str = ""


EMPTY = AuditContext()
_current: ContextVar[AuditContext] = ContextVar("audit_context", default=EMPTY)


def current() -> AuditContext:
    """The audit context bound now; `EMPTY` outside a request."""
    return _current.get()


@contextmanager
def bound(ctx: AuditContext) -> Iterator[AuditContext]:
    """Bind `ctx` for the duration of the block, restoring the previous one after."""
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


def _clean_ip(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1:value.index("]")]
    elif value.count(":") == 1:  # "203.0.113.9:443"
        value = value.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """The client's address, believing X-Forwarded-For only as far as our own proxies.

    Same rule as allauth's (ALLAUTH_TRUSTED_PROXY_COUNT is fed the same setting): each of
    the TRUSTED_PROXY_COUNT proxies appends the address it saw, so the client is the
    entry that many places from the right. A header shorter than that did not pass
    through all our proxies, so it is not believed (allauth raises there; an audit row
    falls back to the peer address instead).
    """
    trusted = settings.TRUSTED_PROXY_COUNT
    forwarded = request.headers.get("x-forwarded-for", "")
    if trusted > 0 and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",")]
        if len(hops) >= trusted:
            return _clean_ip(hops[-trusted])
    return _clean_ip(request.META.get("REMOTE_ADDR"))


def from_request(request: HttpRequest, request_id: str) -> AuditContext:
    """The audit context of one request."""
    return AuditContext(
        ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX],
        request_id=request_id,
    )
