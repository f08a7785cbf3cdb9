from django.urls import path

from usage import views

workspace_patterns = [
    path("usage/", views.usage_page, name="usage"),
    path("usage/export.csv", views.usage_export, name="usage_export"),
    path("usage/<str:environment>/", views.usage_page, name="usage_environment"),
    path("usage/<str:environment>/export.csv", views.usage_export,
         name="usage_environment_export"),
    path("requests/<str:environment>/", views.request_log, name="request_log"),
]

api_patterns = [
    path("usage", views.ingest_usage, name="gateway_usage"),
]
