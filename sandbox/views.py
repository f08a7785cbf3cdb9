"""The sandbox API: Bearer sandbox keys, scope checks, problem+json errors, request ids,
and every call counted in usage."""

import secrets
import time
from dataclasses import asdict
from functools import lru_cache, wraps

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.views.decorators.csrf import csrf_exempt

from keys.gateway import machine_json, problem
from keys.selectors import verify
from sandbox import fakedata
from usage.services import record_call

STATUS_OF = {"MALFORMED_KEY": 401, "BAD_CHECKSUM": 401, "NOT_FOUND": 401, "EXPIRED": 401,
             "REVOKED": 401, "SUSPENDED": 401, "WRONG_ENVIRONMENT": 401, "FORBIDDEN": 403}


def current_second() -> int:
    return int(time.time())


def _over_limit(key) -> bool:
    """A fixed one-second window per key in the shared cache, so every web process
    counts together."""
    window = f"sandbox-rate:{key.id}:{current_second()}"
    cache.add(window, 0, timeout=2)
    try:
        return cache.incr(window) > settings.SANDBOX_RATE_LIMIT_PER_SECOND
    except ValueError:  # the cache is down: serve rather than refuse (portal/cache.py)
        return False


@lru_cache(maxsize=256)
def _dataset(workspace_id: int):
    return fakedata.dataset(workspace_id)


def api(endpoint: str, scope: str | None = None):
    """Authenticate the Bearer key for the sandbox, check the scope, answer JSON with a
    Request-Id, and record the call in usage whatever its outcome."""

    def decorator(view):
        @login_not_required  # the Bearer key authenticates, not a session
        @csrf_exempt
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            started = time.perf_counter()
            request_id = "req_" + secrets.token_hex(12)
            key = None
            if request.method != "GET":
                response = problem(405, "METHOD_NOT_ALLOWED", "The sandbox API is read-only.",
                                   request_id=request_id)
            else:
                header = request.META.get("HTTP_AUTHORIZATION", "")
                if not header.startswith("Bearer "):
                    response = problem(401, "MALFORMED_KEY", "Send your sandbox key as "
                                       "'Authorization: Bearer sk_sandbox_…'.",
                                       request_id=request_id)
                else:
                    result = verify(header.removeprefix("Bearer ").strip(),
                                    environment="sandbox", scope=scope)
                    key = result.key
                    if result.valid and _over_limit(key):
                        response = problem(429, "RATE_LIMITED", "This key sent more than "
                                           f"{settings.SANDBOX_RATE_LIMIT_PER_SECOND} requests "
                                           "in a second; retry after a second.",
                                           request_id=request_id)
                        response["Retry-After"] = "1"
                    elif result.valid:
                        response = view(request, result.key, *args, **kwargs)
                    else:
                        response = problem(STATUS_OF[result.code], result.code, result.message,
                                           request_id=request_id)
            response["Request-Id"] = request_id
            if response.status_code == 401:
                response["WWW-Authenticate"] = 'Bearer realm="sandbox"'

            # A production key presented here is not sandbox usage of that key.
            if key is not None and key.environment == "sandbox":
                record_call(api_key=key, endpoint=endpoint, method=request.method,
                            status=response.status_code, request_id=request_id,
                            latency_ms=round((time.perf_counter() - started) * 1000),
                            error_body=response.content.decode("utf-8", "replace")
                            if response.status_code >= 400 else "")
            return response

        return wrapper

    return decorator


def _limit(request) -> int | None:
    try:
        limit = int(request.GET.get("limit", 25))
    except ValueError:
        return None
    return limit if 1 <= limit <= 100 else None


def _listing(request, items):
    limit = _limit(request)
    if limit is None:
        return problem(400, "INVALID_REQUEST", "limit must be a whole number from 1 to 100.")
    try:
        chunk, cursor = fakedata.page(items, request.GET.get("cursor"), limit)
    except fakedata.BadCursor:
        return problem(400, "INVALID_REQUEST", "That cursor is not one we handed out; start "
                       "again without it.")
    return machine_json({"data": [asdict(i) for i in chunk], "next_cursor": cursor})


@api("/v1/ping")
def ping(request, key):
    return machine_json({"ok": True, "environment": "sandbox", "key_id": key.public_id})


@api("/v1/accounts", scope="accounts:read")
def accounts(request, key):
    return _listing(request, _dataset(key.workspace_id)[0])


@api("/v1/transactions", scope="transactions:read")
def transactions(request, key):
    items = _dataset(key.workspace_id)[1]
    account = request.GET.get("account")
    if account:
        items = [t for t in items if t.account == account]
    return _listing(request, items)
