from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from onboarding.urls import organization_patterns as onboarding_org
from onboarding.urls import workspace_patterns as onboarding_ws

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="docs:index", permanent=False)),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("docs/", include("docs.urls")),
    path("", include("accounts.urls")),
    path("", include("workspaces.urls")),
    path("o/<slug:org_slug>/", include(onboarding_org)),
    path("o/<slug:org_slug>/w/<slug:ws_slug>/", include(onboarding_ws)),
]

handler403 = "workspaces.views.permission_denied"
