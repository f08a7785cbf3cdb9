"""Authentication of the platform's API gateway calling us (verify, usage reports)."""

import hmac
from functools import wraps

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

# JSON for machines loads nothing and is framed by nobody. A fixed policy also spares the
# CSP middleware from building the pages' policy (portal/middleware.py).
MACHINE_CSP = "default-src 'none'; frame-ancestors 'none'"


def machine_json(data: dict, status: int = 200,
                 content_type: str = "application/json") -> JsonResponse:
    """A JSON answer to the gateway or an API client."""
    response = JsonResponse(data, status=status, content_type=content_type)
    response["Content-Security-Policy"] = MACHINE_CSP
    return response


def problem(status: int, code: str, detail: str, **extra) -> JsonResponse:
    """An RFC 9457 problem+json response with our error code."""
    body = {"type": f"{settings.SITE_URL}/docs/errors/#{code.lower()}",
            "title": code.replace("_", " ").capitalize(), "status": status, "detail": detail,
            "code": code, **extra}
    return machine_json(body, status=status, content_type="application/problem+json")


def service_token_required(view):
    """Only the gateway, holding GATEWAY_SERVICE_TOKEN as a Bearer token, may call."""

    @csrf_exempt
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        expected = settings.GATEWAY_SERVICE_TOKEN
        # META, not request.headers: building the headers mapping costs more than the check.
        presented = request.META.get("HTTP_AUTHORIZATION", "").removeprefix("Bearer ").strip()
        if not expected or not hmac.compare_digest(presented.encode(), expected.encode()):
            return problem(401, "UNAUTHENTICATED", "A valid service token is required.")
        if request.method != "POST":
            return problem(405, "METHOD_NOT_ALLOWED", "Use POST.")
        return view(request, *args, **kwargs)

    return wrapper
