import pytest
from django.contrib import admin
from django.test import RequestFactory

from usage.models import DailyUsage, WorkspaceUsage
from webhooks.models import Delivery, Endpoint, Event


@pytest.mark.django_db
@pytest.mark.parametrize("model", [WorkspaceUsage, DailyUsage, Endpoint, Event, Delivery])
def test_rows_the_services_write_are_read_only_in_the_admin(model, user_factory):
    # given a superuser in the admin
    request = RequestFactory().get("/admin/")
    request.user = user_factory(is_staff=True, is_superuser=True, email="root@platform.test")
    model_admin = admin.site._registry[model]

    # when / then: they may look, and neither add, change nor delete
    assert model_admin.has_view_permission(request) is True
    assert (model_admin.has_add_permission(request),
            model_admin.has_change_permission(request),
            model_admin.has_delete_permission(request)) == (False, False, False)
