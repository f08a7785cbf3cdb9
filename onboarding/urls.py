from django.urls import path

from onboarding import views

workspace_patterns = [
    path("", views.workspace_overview, name="workspace_overview"),
    path("sandbox/", views.sandbox_request, name="sandbox_request"),
    path("history/", views.workspace_history, name="workspace_history"),
]

organization_patterns = [
    path("audit/", views.organization_audit, name="organization_audit"),
    path("audit/export.<str:fmt>", views.organization_audit_export,
         name="organization_audit_export"),
]
