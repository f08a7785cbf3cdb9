from django.urls import path

from sandbox import views

app_name = "sandbox"
urlpatterns = [
    path("ping", views.ping, name="ping"),
    path("accounts", views.accounts, name="accounts"),
    path("transactions", views.transactions, name="transactions"),
]
