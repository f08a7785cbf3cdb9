from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum

from audit.models import AuditEvent
from keys.models import ApiKey
from usage.models import DailyUsage, HourlyUsage
from webhooks.models import Attempt, Delivery, Endpoint
from workspaces.models import Membership, Organization, Workspace


@pytest.mark.django_db
def test_a_tiny_scale_data_set_has_every_count_and_one_large_organization(client):
    out = StringIO()

    call_command("build_scale_data", "--factor", "0.0005", stdout=out)

    # Factor 0.0005 of 10k/20k/100k/1M/10M/1M/1M.
    assert Organization.objects.count() == 5
    assert Workspace.objects.count() == 10
    assert Membership.objects.count() == 50
    assert ApiKey.objects.count() == 500
    assert AuditEvent.objects.count() == 500
    assert Attempt.objects.count() == 500
    assert Delivery.objects.count() == 250
    assert Endpoint.objects.count() == 10
    # Every call is rolled up, by hour and by day.
    assert HourlyUsage.objects.aggregate(calls=Sum("count"))["calls"] == 5000
    assert DailyUsage.objects.aggregate(calls=Sum("count"))["calls"] == 5000

    text = out.getvalue()
    assert "Built at factor 0.0005: 5 organizations, 10 workspaces, 50 memberships" in text
    large = Organization.objects.get(slug=text.split("Large organization /o/", 1)[1]
                                     .split("/", 1)[0])
    owner = Membership.objects.get(organization=large, roles=["owner"])
    # The other organizations share the rest evenly; the large one has its own share.
    assert Membership.objects.filter(organization=large).count() == 1
    assert Workspace.objects.filter(organization=large).get().slug == "app-0"
    assert HourlyUsage.objects.filter(workspace__organization=large).aggregate(
        calls=Sum("count"))["calls"] == 500

    client.force_login(owner.user)
    page = client.get(f"/o/{large.slug}/").content.decode()
    assert "App 0" in page


@pytest.mark.django_db
def test_the_factor_must_be_a_share_of_the_full_set():
    with pytest.raises(CommandError, match="factor must be in"):
        call_command("build_scale_data", "--factor", "2")


def _schema(tables):
    """Every index and constraint of these tables, by name and definition."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid::regclass::text = ANY(%s) UNION ALL "
            "SELECT conname, pg_get_constraintdef(oid) || convalidated::text "
            "FROM pg_constraint WHERE conrelid::regclass::text = ANY(%s) ORDER BY 1, 2",
            [tables, tables])
        return cursor.fetchall()


@pytest.mark.django_db
def test_the_bulk_load_puts_back_every_index_and_constraint_it_set_aside():
    tables = ["usage_callrecord", "keys_apikey", "workspaces_membership", "accounts_user",
              "webhooks_delivery", "webhooks_attempt", "audit_auditevent"]
    before = _schema(tables)
    assert any(name == "usage_call_request_id_unique" for name, _ in before)

    call_command("build_scale_data", "--factor", "0.0002", stdout=StringIO())

    assert _schema(tables) == before
