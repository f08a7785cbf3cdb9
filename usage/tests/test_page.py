import csv
import io
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from onboarding import services as onboarding_services
from onboarding.facts import load_facts
from usage import services
from usage.models import WorkspaceUsage
from usage.tests.factories import call_rows, make_key
from workspaces.roles import Role


def summary(response) -> dict[str, str]:
    """The figures at the top of the page, as a reader sees them."""
    text = response.content.decode()
    block = text.split('data-testid="usage-summary"', 1)[1].split("</dl>", 1)[0]
    return dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", block))


def url(workspace, name="usage"):
    return reverse(name, args=[workspace.organization.slug, workspace.slug])


@pytest.fixture
def sandbox_workspace(workspace, owner):
    onboarding_services.request_sandbox_access(
        actor=owner, workspace=workspace, use_case="x" * 30, expected_monthly_calls=5,
        product_areas=["accounts"])
    return workspace


@pytest.fixture
def calls(sandbox_workspace):
    """Five sandbox calls in the last 24 hours, one ten days ago, one production call."""
    now = timezone.now()
    backend = make_key(sandbox_workspace, name="Backend")
    worker = make_key(sandbox_workspace, name="Worker")
    live = make_key(sandbox_workspace, environment="production", name="Live")
    for n, (key, method, endpoint, status, latency, ago) in enumerate([
        (backend, "GET", "/v1/accounts", 200, 3, timedelta(minutes=2)),
        (backend, "GET", "/v1/accounts", 200, 7, timedelta(minutes=2)),
        (backend, "GET", "/v1/accounts", 200, 40, timedelta(minutes=2)),
        (backend, "POST", "/v1/transactions", 500, 800, timedelta(hours=3)),
        (worker, "GET", "/v1/accounts", 404, 12, timedelta(hours=5)),
        (backend, "GET", "/v1/accounts", 200, 30, timedelta(days=10)),
        (live, "GET", "/v1/accounts", 200, 5, timedelta(hours=1)),
    ]):
        services.record_call(api_key=key, endpoint=endpoint, method=method, status=status,
                             latency_ms=latency, request_id=f"req_{n}", occurred_at=now - ago)
    services.roll_up_usage()
    return {"backend": backend, "worker": worker, "live": live, "now": now}


@pytest.mark.django_db
def test_the_page_shows_requests_errors_and_latency_of_the_last_24_hours(client, owner, calls):
    client.force_login(owner)

    response = client.get(url(calls["backend"].workspace))

    assert response.status_code == 200
    assert summary(response) == {"Requests": "5", "Error rate": "40.0%", "Latency p50": "18 ms",
                                 "Latency p95": "875 ms"}
    text = response.content.decode()
    assert "<code>GET /v1/accounts</code>" in text
    assert "Worker (key_usage" in text
    assert "Live (key_" not in text  # production calls never show on a sandbox page
    assert "stage-band--sandbox" in text


@pytest.mark.django_db
@pytest.mark.parametrize(("query", "expected"), [
    ({"key": "worker"}, {"Requests": "1", "Error rate": "100.0%", "Latency p50": "18 ms",
                         "Latency p95": "24 ms"}),
    ({"endpoint": "/v1/transactions"}, {"Requests": "1", "Error rate": "100.0%",
                                        "Latency p50": "750 ms", "Latency p95": "975 ms"}),
    ({"range": "7d"}, {"Requests": "5", "Error rate": "40.0%", "Latency p50": "18 ms",
                       "Latency p95": "875 ms"}),
    ({"range": "30d"}, {"Requests": "6", "Error rate": "33.3%", "Latency p50": "25 ms",
                        "Latency p95": "850 ms"}),
    ({"range": "30d", "key": "backend", "endpoint": "/v1/accounts"},
     {"Requests": "4", "Error rate": "0.0%", "Latency p50": "10 ms", "Latency p95": "48 ms"}),
])
def test_filters_change_the_numbers(client, owner, calls, query, expected):
    client.force_login(owner)
    if "key" in query:
        query = {**query, "key": calls[query["key"]].public_id}

    response = client.get(url(calls["backend"].workspace), query)

    assert summary(response) == expected


@pytest.mark.django_db
def test_a_key_of_another_workspace_is_not_a_filter(client, owner, calls, workspace_factory):
    stranger = make_key(workspace_factory(), name="Elsewhere")
    client.force_login(owner)

    response = client.get(url(calls["backend"].workspace), {"key": stranger.public_id})

    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert summary(response)["Requests"] == "5"  # the defaults, not the other workspace


@pytest.mark.django_db
def test_charts_are_svg_with_data_tables_and_no_inline_styles(client, owner, calls):
    client.force_login(owner)

    text = client.get(url(calls["backend"].workspace)).content.decode()

    assert text.count('<svg class="chart__svg"') == 3
    assert text.count('role="img"') == 3
    assert '<rect class="chart__bar chart__bar--2xx"' in text
    assert '<rect class="chart__bar chart__bar--5xx"' in text
    # One data table holds the figures of all three charts; each chart links to it.
    assert text.count('href="#usage-table-heading">') == 3
    assert text.count("<table") == 3  # the charts' figures, top endpoints, top keys
    assert "Requests, errors and latency by hour</summary>" in text
    assert "style=" not in text
    assert "<script" not in text.split("</head>", 1)[1]


@pytest.mark.django_db
def test_without_calls_the_page_says_how_to_make_one(client, owner, sandbox_workspace):
    client.force_login(owner)

    text = client.get(url(sandbox_workspace)).content.decode()

    assert 'data-testid="usage-empty"' in text
    assert "No sandbox calls in the last 24 hours." in text
    assert reverse("docs:page", args=["sandbox-api"]) in text
    assert load_facts(sandbox_workspace).usage_reviewed_at is None


@pytest.mark.django_db
def test_opening_the_page_after_a_call_completes_the_review_step(member_client, calls):
    workspace = calls["backend"].workspace
    client, membership = member_client(workspace.organization, Role.VIEWER)
    assert load_facts(workspace).first_call_at == calls["now"] - timedelta(days=10)

    client.get(url(workspace))
    client.get(url(workspace))

    milestones = WorkspaceUsage.objects.get(workspace=workspace)
    assert milestones.usage_reviewed_by == membership.user
    assert load_facts(workspace).usage_reviewed_at == milestones.usage_reviewed_at


@pytest.mark.django_db
def test_the_overview_checklist_links_the_usage_steps_to_the_page(client, owner, calls):
    workspace = calls["backend"].workspace
    client.force_login(owner)

    text = client.get(reverse("workspace_overview",
                              args=[workspace.organization.slug, workspace.slug])).content.decode()

    assert f'href="{url(workspace)}">Usage</a>' in text


@pytest.mark.django_db
def test_export_streams_the_rollup_rows_for_the_filters(client, owner, calls):
    client.force_login(owner)
    backend, worker = calls["backend"], calls["worker"]
    worker.name = "=HYPERLINK(1)"
    worker.save()
    hour = lambda ago: (calls["now"] - ago).replace(minute=0, second=0,  # noqa: E731
                                                     microsecond=0).isoformat()

    response = client.get(url(backend.workspace, "usage_export"))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(
        f'attachment; filename="usage-{backend.workspace.slug}-sandbox-24h-')
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:11] == ["period_start", "granularity", "key_id", "key_name", "environment",
                            "method", "endpoint", "status_class", "requests", "errors",
                            "latency_sum_ms"]
    assert rows[0][11:13] == ["latency_ms_0_5", "latency_ms_5_10"]
    assert rows[0][-1] == "latency_ms_10000_plus"
    assert rows[1:] == [
        [hour(timedelta(hours=5)), "hour", worker.public_id, "'=HYPERLINK(1)", "sandbox", "GET",
         "/v1/accounts", "4xx", "1", "1", "12", "0", "0", "1", *["0"] * 9],
        [hour(timedelta(hours=3)), "hour", backend.public_id, "Backend", "sandbox", "POST",
         "/v1/transactions", "5xx", "1", "1", "800", *["0"] * 7, "1", *["0"] * 4],
        [hour(timedelta(minutes=2)), "hour", backend.public_id, "Backend", "sandbox", "GET",
         "/v1/accounts", "2xx", "3", "0", "50", "1", "1", "0", "1", *["0"] * 8],
    ]


@pytest.mark.django_db
def test_export_follows_the_filters(client, owner, calls):
    client.force_login(owner)

    response = client.get(url(calls["backend"].workspace, "usage_export"),
                          {"range": "30d", "endpoint": "/v1/accounts"})

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert {row[1] for row in rows[1:]} == {"day"}
    assert sum(int(row[8]) for row in rows[1:]) == 5
    assert {row[6] for row in rows[1:]} == {"/v1/accounts"}


@pytest.mark.django_db
@pytest.mark.parametrize("calls_made", [10, 2000])
def test_page_and_export_cost_the_same_queries_with_10_and_2000_calls(
        client, owner, sandbox_workspace, calls_made, django_assert_max_num_queries):
    keys = [make_key(sandbox_workspace, name=f"Key {n}") for n in range(3)]
    end = timezone.now()
    services.copy_calls(call_rows(keys, calls_made, start=end - timedelta(days=6), end=end))
    services.roll_up_usage()
    client.force_login(owner)
    client.get(url(sandbox_workspace))  # the review step is noted once

    for query in ({}, {"range": "30d", "key": keys[0].public_id, "endpoint": "/v1/accounts"},
                  {"range": "7d"}):
        # 15: the navigation counts waiting join requests for an Owner, as on every page,
        # and the database session is read
        with django_assert_max_num_queries(15):
            response = client.get(url(sandbox_workspace), query)
        assert response.status_code == 200
    assert summary(response)["Requests"] == f"{calls_made:,}"
    with django_assert_max_num_queries(7):
        response = client.get(url(sandbox_workspace, "usage_export"), {"range": "30d"})
        rows = b"".join(response.streaming_content).decode().splitlines()
    assert len(rows) > 1


@pytest.mark.django_db
def test_the_data_table_lists_each_period_with_calls_newest_first(client, owner, calls):
    client.force_login(owner)

    text = client.get(url(calls["backend"].workspace)).content.decode()

    requests_table = text.split("Requests, errors and latency by hour", 1)[1].split(
        "</table>", 1)[0]
    rows = re.findall(r'<tr><th scope="row"><time datetime="([^"]+)">[^<]+</time></th>'
                      r'((?:<td class="numeric">[^<]*</td>)+)</tr>', requests_table)
    cells = [re.findall(r">([^<]*)</td>", row) for _, row in rows]
    # Columns: 2xx, 4xx, 5xx, total, error rate, p50, p95, mean; three hours hold the
    # five sandbox calls.
    assert [datetime for datetime, _ in rows] == sorted(
        (datetime for datetime, _ in rows), reverse=True)
    assert sorted(cell[:5] for cell in cells) == [
        ["0", "0", "1", "1", "100.0%"], ["0", "1", "0", "1", "100.0%"],
        ["3", "0", "0", "3", "0.0%"]]
    assert all(cell[5].endswith(" ms") and cell[7].endswith(" ms") for cell in cells)
