"""Binds the audit context (IP, user agent, request id) for each request."""

import re
import uuid

from django.conf import settings

from audit import context

REQUEST_ID_HEADER = "X-Request-Id"
# A proxy's id is kept only when it could not smuggle anything into logs or headers.
WELL_FORMED_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")


def request_id_for(request) -> str:
    """The incoming X-Request-Id when our own proxy set a well-formed one, else a new id."""
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    if settings.TRUSTED_PROXY_COUNT > 0 and WELL_FORMED_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


class AuditContextMiddleware:
    """Sets `request.request_id`, binds the audit context for the request, and echoes
    the id in the response's X-Request-Id header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request_id_for(request)
        with context.bound(context.from_request(request, request.request_id)):
            response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request.request_id
        return response
