"""The project's URLs plus the baselines the verify benchmark compares to. Used only by
the benchmark's gunicorn (bench/bare_settings.py), never by the portal."""

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from keys.gateway import machine_json
from portal.urls import urlpatterns as portal_urlpatterns
from workspaces.scoping import render_scoped, workspace_view


@login_not_required
@csrf_exempt
def bare(request):
    """Nothing at all: the pages' middleware and CSP, no database."""
    return JsonResponse({"valid": True})


@login_not_required
@csrf_exempt
def bare_machine(request):
    """Nothing at all, answered the way the machine endpoints answer (fixed CSP)."""
    return machine_json({"valid": True})


@login_not_required
@csrf_exempt
def one_query(request):
    """One database round trip and nothing else: what a round trip costs here."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return machine_json({"valid": True})


@workspace_view()
def bare_page(request):
    """A signed-in workspace page with nothing on it: resolved like every workspace page,
    base.html with the same context processors (stage band, next lane, switcher)."""
    return render_scoped(request, "bench/bare_page.html", {})


urlpatterns = [
    path("bench/o/<slug:org_slug>/w/<slug:ws_slug>/bare-page", bare_page, name="bench_bare_page"),
    path("bench/bare", bare),
    path("bench/bare-machine", bare_machine),
    path("bench/one-query", one_query),
    *portal_urlpatterns,
]
