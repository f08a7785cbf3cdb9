from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.generic import RedirectView

from keys.urls import gateway_patterns as keys_gateway
from keys.urls import organization_patterns as keys_org
from keys.urls import workspace_patterns as keys_ws
from onboarding.selectors import review_queue
from onboarding.urls import account_patterns as onboarding_account
from onboarding.urls import organization_patterns as onboarding_org
from onboarding.urls import workspace_patterns as onboarding_ws
from portal import health, metrics
from usage.urls import api_patterns as usage_api
from usage.urls import workspace_patterns as usage_ws
from webhooks.urls import workspace_patterns as webhooks_ws

# Staff sign in through allauth too: rate limits, MFA and audit apply to the admin.
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = "Developer portal: platform review"
admin.site.index_template = "admin/portal_index.html"
_admin_index = admin.site.index


def admin_index(request, extra_context=None):
    """The admin index with the reviewers' queue counts on top."""
    return _admin_index(request, {**(extra_context or {}), "review_queue": review_queue()})


admin.site.index = admin_index

urlpatterns = [
    # Machine endpoints first: the gateway calls these on every API request, and URL
    # resolution tries patterns in order.
    path("api/v1/", include(keys_gateway)),
    path("api/v1/", include(usage_api)),
    path("sandbox/v1/", include("sandbox.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("", login_not_required(RedirectView.as_view(pattern_name="docs:index",
                                                     permanent=False))),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("docs/", include("docs.urls")),
    path("", include("accounts.urls")),
    path("", include(onboarding_account)),
    path("", include("workspaces.urls")),
    path("o/<slug:org_slug>/", include(onboarding_org)),
    path("o/<slug:org_slug>/", include(keys_org)),
    path("o/<slug:org_slug>/w/<slug:ws_slug>/", include(onboarding_ws)),
    path("o/<slug:org_slug>/w/<slug:ws_slug>/", include(usage_ws)),
    path("o/<slug:org_slug>/w/<slug:ws_slug>/", include(keys_ws)),
    path("o/<slug:org_slug>/w/<slug:ws_slug>/", include(webhooks_ws)),
]

handler403 = "workspaces.views.permission_denied"
