import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from keys.tests.factories import approve_sandbox, issue
from usage import services
from usage.tests.factories import make_key
from workspaces.roles import Role


def log_url(workspace, environment="sandbox"):
    return reverse("request_log", args=[workspace.organization.slug, workspace.slug,
                                        environment])


def request_ids(response) -> list[str]:
    """The Request-Id column of the log, top to bottom."""
    table = response.content.decode().split('data-testid="request-log"', 1)[1]
    table = table.split("</table>", 1)[0]
    return re.findall(r"<td><code>(req_[^<]+)</code></td>", table)


@pytest.fixture
def api_calls(client, workspace, owner):
    """Three calls through the sandbox API: a success, a 403 and a 404 (problem+json)."""
    key, secret = issue(approve_sandbox(workspace), owner, name="Reader",
                        scopes=["accounts:read"])
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    ok = client.get("/sandbox/v1/accounts", **auth)
    forbidden = client.get("/sandbox/v1/transactions", **auth)
    assert (ok.status_code, forbidden.status_code) == (200, 403)
    return {"key": key, "ok": ok["Request-Id"], "forbidden": forbidden["Request-Id"],
            "forbidden_body": forbidden.content.decode()}


@pytest.mark.django_db
def test_the_log_shows_each_call_with_the_error_body_it_answered(client, owner, api_calls):
    client.force_login(owner)

    response = client.get(log_url(api_calls["key"].workspace))

    assert response.status_code == 200
    assert request_ids(response) == [api_calls["forbidden"], api_calls["ok"]]
    text = response.content.decode()
    assert "<code>/v1/transactions</code>" in text and "<code>/v1/accounts</code>" in text
    assert '<span class="badge badge--warn">403</span>' in text
    assert f"Reader<br><span class=\"muted\">{api_calls['key'].public_id}</span>" in text
    assert re.search(r'<td class="numeric">\d+ ms</td>', text)
    assert re.search(r'<td><time datetime="\d{4}-\d\d-\d\dT[\d:.]+\+00:00">'
                     r"\d{1,2} [A-Z][a-z]{2} \d\d:\d\d:\d\d</time></td><td>GET</td>", text)
    # The problem+json body of the 403, shown as returned (escaped), and only for it.
    assert f"Error body returned for {api_calls['forbidden']}" in text
    assert "Error body returned for " + api_calls["ok"] not in text
    assert "&quot;code&quot;: &quot;FORBIDDEN&quot;" in text
    assert '"code": "FORBIDDEN"' in api_calls["forbidden_body"]
    assert "stage-band--sandbox" in text
    assert f'href="{log_url(api_calls["key"].workspace)}">Requests</a>' in text


@pytest.mark.django_db
def test_a_request_id_finds_its_call_whatever_the_filters(client, owner, api_calls):
    client.force_login(owner)

    response = client.get(log_url(api_calls["key"].workspace),
                          {"request_id": f" {api_calls['ok']} ", "status": "5xx"})

    assert request_ids(response) == [api_calls["ok"]]
    missing = client.get(log_url(api_calls["key"].workspace), {"request_id": "req_nothing"})
    assert "has the Request-Id <code>req_nothing</code>" in missing.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(("query", "expected"), [
    ({"status": "4xx"}, ["forbidden"]),
    ({"status": "2xx"}, ["ok"]),
    ({"endpoint": "/v1/accounts"}, ["ok"]),
])
def test_filters_narrow_the_log(client, owner, api_calls, query, expected):
    services.roll_up_usage()  # the endpoint choices come from the rollups
    client.force_login(owner)

    response = client.get(log_url(api_calls["key"].workspace), query)

    assert request_ids(response) == [api_calls[name] for name in expected]


@pytest.mark.django_db
def test_the_key_filter_shows_only_that_keys_calls(client, owner, workspace):
    keys = [make_key(approve_sandbox(workspace), name=name) for name in ("A", "B")]
    now = timezone.now()
    for n, key in enumerate(keys * 2):
        services.record_call(api_key=key, endpoint="/v1/ping", method="GET", status=200,
                             latency_ms=3, request_id=f"req_k{n}",
                             occurred_at=now - timedelta(minutes=n))
    client.force_login(owner)

    response = client.get(log_url(workspace), {"key": keys[1].public_id})

    assert request_ids(response) == ["req_k1", "req_k3"]


@pytest.mark.django_db
def test_pages_follow_each_other_by_keyset_without_gaps_or_repeats(client, owner, workspace):
    key = make_key(approve_sandbox(workspace))
    now = timezone.now().replace(microsecond=0)
    # 120 calls, two per second: pairs share a timestamp, so the id breaks the tie.
    services.copy_calls((key.workspace_id, key.pk, "sandbox", "/v1/ping", "GET", 200, 4,
                         f"req_p{n:03d}", now - timedelta(seconds=n // 2)) for n in range(120))
    client.force_login(owner)

    seen, url, pages = [], log_url(workspace), 0
    while url:
        response = client.get(url)
        seen += request_ids(response)
        pages += 1
        older = re.search(r'href="(\?[^"]+)" rel="next"', response.content.decode())
        url = log_url(workspace) + older.group(1).replace("&amp;", "&") if older else ""

    assert pages == 3
    # Newest first; within one second the later-written (higher id) call first.
    expected = sorted((f"req_p{n:03d}" for n in range(120)),
                      key=lambda rid: (int(rid[5:]) // 2, -int(rid[5:])))
    assert seen == expected


@pytest.mark.django_db
def test_calls_older_than_a_week_and_of_other_workspaces_stay_out(
        client, owner, workspace, workspace_factory):
    key = make_key(approve_sandbox(workspace))
    stranger = make_key(workspace_factory())
    services.record_call(api_key=key, endpoint="/v1/ping", method="GET", status=200,
                         latency_ms=1, request_id="req_old",
                         occurred_at=timezone.now() - timedelta(days=8))
    services.record_call(api_key=stranger, endpoint="/v1/ping", method="GET", status=200,
                         latency_ms=1, request_id="req_theirs")
    client.force_login(owner)

    response = client.get(log_url(workspace))
    by_id = client.get(log_url(workspace), {"request_id": "req_theirs"})

    assert "No sandbox calls in the last 7 days." in response.content.decode()
    assert "has the Request-Id <code>req_theirs</code>" in by_id.content.decode()


@pytest.mark.django_db
def test_a_cursor_the_log_did_not_hand_out_is_refused_by_the_field(client, owner, workspace):
    client.force_login(owner)

    response = client.get(log_url(workspace), {"before": "12-x"})

    assert response.status_code == 400
    assert "This page link is not one the log handed out" in response.content.decode()


@pytest.mark.django_db
def test_production_calls_need_production_read(member_client, workspace):
    client, _ = member_client(workspace.organization, Role.VIEWER)

    assert client.get(log_url(workspace, "production")).status_code == 403
    assert client.get(log_url(workspace, "sandbox")).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("calls", [3, 600])
def test_the_log_costs_the_same_queries_at_any_size(client, owner, workspace, calls,
                                                    django_assert_max_num_queries):
    keys = [make_key(approve_sandbox(workspace), name=name) for name in ("A", "B", "C")]
    now = timezone.now()
    services.copy_calls((k.workspace_id, k.pk, "sandbox", "/v1/ping", "GET",
                         404 if n % 7 == 0 else 200, 4, f"req_q{n}",
                         now - timedelta(seconds=n)) for n in range(calls) for k in
                        [keys[n % 3]])
    services.roll_up_usage()
    client.force_login(owner)
    client.get(log_url(workspace))  # session and caches warm, as for a person

    with django_assert_max_num_queries(12):
        response = client.get(log_url(workspace), {"status": "4xx"})

    assert len(request_ids(response)) == min(50, len(range(0, calls, 7)))
