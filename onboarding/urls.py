from django.urls import path

from onboarding import views
from onboarding.review import views as review_views

account_patterns = [
    path("access/", views.access, name="access"),
    path("organizations/new/", views.first_run, name="organization_create"),
]

workspace_patterns = [
    path("", views.workspace_overview, name="workspace_overview"),
    path("sandbox/", views.sandbox_request, name="sandbox_request"),
    path("history/", views.workspace_history, name="workspace_history"),
    path("review/", review_views.review_overview, name="review_overview"),
    path("review/start/", review_views.review_start, name="review_start"),
    path("review/consent/screenshot/", review_views.review_screenshot,
         name="review_screenshot"),
    path("review/audit/evidence-file/", review_views.review_attachment,
         name="review_attachment"),
    path("review/dossier/", review_views.review_dossier, name="review_dossier"),
    path("review/dossier.json", review_views.review_dossier_json, name="review_dossier_json"),
    path("review/<str:stage>/", review_views.review_stage, name="review_stage"),
]

organization_patterns = [
    path("billing/", views.billing, name="billing"),
    path("audit/", views.organization_audit, name="organization_audit"),
    path("audit/export.<str:fmt>", views.organization_audit_export,
         name="organization_audit_export"),
]
