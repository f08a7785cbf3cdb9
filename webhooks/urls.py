from django.urls import path

from webhooks import views

P = "webhooks/<str:environment>/"
E = P + "<str:endpoint_id>/"

workspace_patterns = [
    path(P, views.endpoint_list, name="webhook_list"),
    path(P + "new/", views.endpoint_create, name="webhook_create"),
    path(P + "events/", views.event_list, name="webhook_events"),
    path(E, views.endpoint_detail, name="webhook_endpoint"),
    path(E + "edit/", views.endpoint_edit, name="webhook_edit"),
    path(E + "test/", views.endpoint_test, name="webhook_test"),
    path(E + "disable/", views.endpoint_disable, name="webhook_disable"),
    path(E + "enable/", views.endpoint_enable, name="webhook_enable"),
    path(E + "replay/", views.endpoint_replay, name="webhook_replay"),
    path(E + "secret/", views.endpoint_secret, name="webhook_secret"),
    path(E + "rotate/", views.endpoint_rotate, name="webhook_rotate"),
    path(E + "delete/", views.endpoint_delete, name="webhook_delete"),
    path(E + "deliveries/<int:delivery_id>/retry/", views.delivery_retry,
         name="webhook_delivery_retry"),
]
