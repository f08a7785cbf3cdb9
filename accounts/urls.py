from django.urls import path

from accounts import views

urlpatterns = [
    path("access/resend-verification/", views.resend_verification,
         name="access_resend_verification"),
]
