from django.urls import path

from keys import views

workspace_patterns = [
    path("keys/<str:environment>/", views.key_list, name="key_list"),
    path("keys/<str:environment>/new/", views.key_issue, name="key_issue"),
    path("keys/<str:environment>/<str:public_id>/revoke/", views.key_revoke, name="key_revoke"),
    path("keys/<str:environment>/<str:public_id>/rotate/", views.key_rotate, name="key_rotate"),
]

organization_patterns = [
    path("key-policy/", views.key_policy, name="key_policy"),
    path("key-policy/edit/", views.key_policy_edit, name="key_policy_edit"),
]

gateway_patterns = [
    path("keys/verify", views.gateway_verify, name="gateway_verify"),
]
