"""The pages' Content-Security-Policy: everything from our own origin, nothing inline.

Every asset is served from static/ (no CDN), so no other origin is ever needed.
"""

from csp.constants import NONE, SELF

PAGE_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}
