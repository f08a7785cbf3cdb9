"""The project's URLs plus one bare view: the baseline the verify benchmark compares to.
Used only by the benchmark's gunicorn (bench/bare_settings.py), never by the portal."""

from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from portal.urls import urlpatterns as portal_urlpatterns


@csrf_exempt
def bare(request):
    return JsonResponse({"valid": True})


urlpatterns = [path("bench/bare", bare), *portal_urlpatterns]
