"""Signed-in sessions end after a period without requests; staff need MFA for the admin."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.urls import reverse

from audit.models import Action
from audit.services import record

# The session remembers when it last served a request. Writing that on every request
# would be a database write per page, so it is refreshed at most once a minute: an idle
# session ends within a minute of its limit.
LAST_SEEN_KEY = "portal.last_seen"
REFRESH_AFTER = 60


def idle_timeout(user) -> int:
    """Seconds a session of `user` may go without a request before it ends."""
    return settings.SESSION_IDLE_TIMEOUT_STAFF if user.is_staff else settings.SESSION_IDLE_TIMEOUT


def mark_seen(session, user) -> None:
    """Start the idle clock of a session that just signed in (saves a write on its next page)."""
    session[LAST_SEEN_KEY] = int(time.time())
    session.set_expiry(idle_timeout(user))


class IdleSessionMiddleware:
    """Ends a session idle for longer than its person's limit and asks them to sign in."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated:
            limit = idle_timeout(user)
            now = int(time.time())
            last_seen = request.session.get(LAST_SEEN_KEY)
            if last_seen is not None and now - last_seen > limit:
                record(action=Action.SESSION_ENDED, target=user,
                       details={"reason": "idle", "idle_seconds": now - last_seen})
                logout(request)
                messages.info(request, "You were signed out after a period without activity. "
                                       "Sign in again to continue.")
                return redirect_to_login(request.get_full_path())
            if last_seen is None or now - last_seen >= REFRESH_AFTER:
                mark_seen(request.session, user)
        return self.get_response(request)


class StaffSecondFactorMiddleware:
    """The admin acts on every organization: staff reach it only with a second factor
    (an authenticator app or a security key) and are sent to set one up otherwise."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (request.path.startswith(reverse("admin:index")) and request.user.is_authenticated
                and request.user.is_staff and not request.user.has_second_factor):
            messages.warning(request, "Platform staff need two-factor authentication for the "
                                      "admin: set up an authenticator app or a security key.")
            return redirect("mfa_index")
        return self.get_response(request)
