from django.urls import include, path

from workspaces import domain_views, grant_views, settings_views, views

organization_patterns = [
    path("", views.organization_home, name="organization_home"),
    path("workspaces/new/", views.workspace_create, name="workspace_create"),
    path("members/", grant_views.members, name="members"),
    path("members/<int:membership_id>/", views.member_detail, name="member_detail"),
    path("members/<int:membership_id>/workspace-roles/", grant_views.member_workspace_roles,
         name="member_workspace_roles"),
    path("members/<int:membership_id>/remove/", views.member_remove, name="member_remove"),
    path("settings/", settings_views.organization_settings, name="organization_settings"),
    path("leave/", views.organization_leave, name="organization_leave"),
    path("invitations/", views.invitations, name="invitations"),
    path("invitations/<int:invitation_id>/resend/", views.invitation_resend,
         name="invitation_resend"),
    path("invitations/<int:invitation_id>/revoke/", views.invitation_revoke,
         name="invitation_revoke"),
    path("join-requests/", views.join_requests, name="join_requests"),
    path("join-requests/<int:join_request_id>/approve/", views.join_request_decide,
         {"decision": "approve"}, name="join_request_approve"),
    path("join-requests/<int:join_request_id>/decline/", views.join_request_decide,
         {"decision": "decline"}, name="join_request_decline"),
    path("domains/", domain_views.domains, name="domains"),
    path("domains/<int:claim_id>/check/", domain_views.domain_check, name="domain_check"),
    path("domains/<int:claim_id>/release/", domain_views.domain_release,
         name="domain_release"),
]

urlpatterns = [
    path("access/invitations/<int:invitation_id>/accept/", views.access_invitation_accept,
         name="access_invitation_accept"),
    path("access/invitations/<int:invitation_id>/decline/", views.access_invitation_decline,
         name="access_invitation_decline"),
    path("access/join-requests/", views.access_join_request_create,
         name="access_join_request_create"),
    path("access/join-requests/<int:join_request_id>/cancel/", views.access_join_request_cancel,
         name="access_join_request_cancel"),
    path("invitations/<str:token>/", views.invitation, name="invitation"),
    path("o/<slug:org_slug>/", include(organization_patterns)),
]
