"""Project middleware."""

from csp.constants import HEADER
from csp.middleware import CSPMiddleware


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, minus the work for responses that carry their own policy.

    django-csp 4.0 builds the page policy for every response and only then checks
    whether the response already has one. The machine endpoints (gateway, usage reports,
    sandbox API) answer JSON with a fixed `default-src 'none'` policy
    (keys.gateway.MACHINE_CSP), so building the pages' policy there is wasted time on the
    hottest path we serve.
    """

    def process_response(self, request, response):
        if HEADER in response:
            return response
        return super().process_response(request, response)
