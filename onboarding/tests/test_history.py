import csv
import io
import json
import re
from datetime import timedelta

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone

from audit.models import Action, AuditEvent
from audit.services import record
from onboarding import services
from workspaces.roles import Role
from workspaces.services.invitations import invite_member


@pytest.fixture
def story(workspace, owner):
    """A workspace with a few real events."""
    services.request_sandbox_access(actor=owner, workspace=workspace, use_case="x" * 30,
                                    expected_monthly_calls=5, product_areas=["accounts"])
    invite_member(actor=owner, organization=workspace.organization,
                  email="dana@acme.test", roles=[Role.BILLING_CONTACT])
    return workspace


@pytest.mark.django_db
def test_workspace_history_reads_as_sentences(client, story, owner):
    client.force_login(owner)

    text = client.get(reverse("workspace_history", args=[story.organization.slug, story.slug]
                              )).content.decode()

    assert f"{owner.display_name}: requested sandbox access" in text
    assert "The approval policy: approved sandbox access" in text
    assert "sandbox.requested" not in text


@pytest.mark.django_db
def test_audit_log_filters_by_kind_actor_and_date(client, story, owner):
    client.force_login(owner)
    url = reverse("organization_audit", args=[story.organization.slug])

    members_only = client.get(url, {"kind": "member"}).content.decode()
    assert "invited a member — dana@acme.test" in members_only
    assert "requested sandbox access" not in members_only
    assert "requested sandbox access" not in client.get(
        url, {"actor": "nobody@else.test"}).content.decode()
    tomorrow = (timezone.now() + timedelta(days=1)).date().isoformat()
    assert "No events match." in client.get(url, {"since": tomorrow}).content.decode()


@pytest.mark.django_db
def test_bad_filter_input_is_explained(client, story, owner):
    client.force_login(owner)

    response = client.get(reverse("organization_audit", args=[story.organization.slug]),
                          {"since": "2026-11-10", "until": "2026-11-01"})

    assert response.status_code == 400
    assert "The end date is before the start date." in response.content.decode()


@pytest.mark.django_db
def test_audit_log_is_for_owners_security_and_compliance_only(story, member_client):
    url = reverse("organization_audit", args=[story.organization.slug])
    for role, status in [(Role.SECURITY_OWNER, 200), (Role.COMPLIANCE, 200),
                         (Role.DEVELOPER, 403), (Role.BILLING_CONTACT, 403)]:
        client, _ = member_client(story.organization, role)
        assert client.get(url).status_code == status, role


@pytest.mark.django_db
def test_csv_export_streams_every_event_of_the_organization_only(
    story, member_client, workspace_factory, user_factory
):
    other = workspace_factory()
    record(action=Action.WORKSPACE_CREATED, actor=user_factory(), workspace=other)
    client, security = member_client(story.organization, Role.SECURITY_OWNER)

    response = client.get(reverse("organization_audit_export",
                                  args=[story.organization.slug, "csv"]))

    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    # The export records itself first, so it appears in its own file.
    assert [r["action"] for r in rows] == [
        Action.SANDBOX_REQUESTED, Action.SANDBOX_APPROVED, Action.MEMBER_INVITED,
        Action.AUDIT_EXPORTED]
    assert {r["organization"] for r in rows} == {story.organization.slug}
    assert AuditEvent.objects.filter(action=Action.AUDIT_EXPORTED, actor=security.user).exists()


@pytest.mark.django_db
def test_jsonl_export_is_one_json_object_a_line(story, member_client):
    client, _ = member_client(story.organization, Role.COMPLIANCE)

    response = client.get(reverse("organization_audit_export",
                                  args=[story.organization.slug, "jsonl"]), {"kind": "sandbox"})

    lines = b"".join(response.streaming_content).decode().splitlines()
    assert [json.loads(line)["action"] for line in lines] == [
        Action.SANDBOX_REQUESTED, Action.SANDBOX_APPROVED]


@pytest.mark.django_db
def test_history_pages_are_bounded_whatever_the_number_of_events(
    client, story, owner, django_assert_max_num_queries
):
    AuditEvent.objects.bulk_create(
        AuditEvent(action=Action.SIGNED_IN, actor=owner, workspace=story,
                   organization=story.organization) for _ in range(300))
    client.force_login(owner)
    for url in [reverse("workspace_history", args=[story.organization.slug, story.slug]),
                reverse("organization_audit", args=[story.organization.slug])]:
        client.get(url)
        with django_assert_max_num_queries(14):
            text = client.get(url).content.decode()
        assert text.count('class="timeline__item"') == 50
        assert 'rel="next">Older' in text


@pytest.mark.django_db
def test_older_pages_follow_by_keyset_without_repeats(client, story, owner):
    AuditEvent.objects.bulk_create(
        AuditEvent(action=Action.SIGNED_IN, actor=owner, workspace=story,
                   organization=story.organization, details={"n": n})
        for n in range(120))
    client.force_login(owner)
    url = reverse("organization_audit", args=[story.organization.slug])

    seen, pages, next_url = [], 0, url
    while next_url:
        text = client.get(next_url).content.decode()
        seen += re.findall(r'<li class="timeline__item">\s*<time datetime="([^"]+)">', text)
        pages += 1
        older = re.search(r'href="(\?[^"]+)" rel="next"', text)
        next_url = url + older.group(1).replace("&amp;", "&") if older else ""

    total = AuditEvent.objects.for_organization(story.organization).count()
    assert pages == -(-total // 50)
    assert len(seen) == total
    assert seen == sorted(seen, reverse=True)  # newest first across the pages


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("user_agent", "shown"),
    [
        ("=HYPERLINK(\"http://evil.test\",\"x\")", "'=HYPERLINK(\"http://evil.test\",\"x\")"),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("Mozilla/5.0 (=harmless inside)", "Mozilla/5.0 (=harmless inside)"),
    ],
)
def test_csv_export_quotes_cells_a_spreadsheet_would_run_as_formulas(
    story, member_client, user_agent, shown
):
    # given an event whose user agent (chosen by whoever signed in) starts like a formula
    AuditEvent.objects.bulk_create([AuditEvent(
        action=Action.SIGNED_IN, organization=story.organization, user_agent=user_agent)])
    client, _ = member_client(story.organization, Role.SECURITY_OWNER)

    # when the log is exported as CSV
    response = client.get(reverse("organization_audit_export",
                                  args=[story.organization.slug, "csv"]))

    # then the cell holds the text with a leading quote, so a spreadsheet shows it as text
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode(),
                                           newline="")))
    assert [r["user_agent"] for r in rows if r["action"] == Action.SIGNED_IN] == [shown]
