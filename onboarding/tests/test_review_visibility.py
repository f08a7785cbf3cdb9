"""Who reads what of the production review: each stage's contents only for the roles the
matrix (DESIGN §3) lets read them; everyone else who may open the workspace sees each
stage's title, status and who fills it in. Asserted on what each role is shown."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from onboarding.review import catalog, services
from onboarding.tests.factories import reviewer, submit_all
from workspaces.roles import Role
from workspaces.tests.factories import MembershipFactory

# Written out by hand from DESIGN §3: consent review (submit), billing (read), production
# keys (read) or consent review for the integration evidence, audit log (read).
READS = {
    Role.OWNER: {"consent", "billing", "integration", "audit"},
    Role.TECHNICAL_LEAD: {"consent", "integration", "audit"},
    Role.DEVELOPER: {"integration"},
    Role.SECURITY_OWNER: {"integration", "audit"},
    Role.BILLING_CONTACT: {"billing"},
    Role.COMPLIANCE: {"consent", "billing", "integration", "audit"},
    Role.VIEWER: set(),
}

# Text that only a stage's contents hold, on its page and in the dossier.
PAGE_SECRETS = {
    "consent": ["https://shop.example.com/terms", "Say which bank each scope covers."],
    "billing": ["Shop GmbH", "billing@shop.example.com", "DE123456789"],
    "integration": ["Successful call to /v1/ping"],
    "audit": ["Do you encrypt data from our API at rest?"],
}
STATUS = {"consent": "Changes requested", "billing": "Submitted", "integration": "Submitted",
          "audit": "Submitted"}


def url(workspace, name, *args):
    return reverse(name, args=[workspace.organization.slug, workspace.slug, *args])


@pytest.fixture
def review(workspace, team, user_factory):
    """Every stage submitted, the consent review sent back with notes, and an evidence
    file attached to the questionnaire."""
    services.start_production_review(actor=team.owner, workspace=workspace)
    services.save_stage_answers(
        actor=team.security, workspace=workspace, kind="audit", answers={},
        attachment=SimpleUploadedFile("pentest-2026.pdf", b"%PDF-1.7 report",
                                      content_type="application/pdf"))
    stages = submit_all(workspace, team)
    services.decide_review_stage(
        reviewer=reviewer(user_factory), stage_id=stages["consent"].pk, version=1,
        approve=False, notes="Say which bank each scope covers.",
        changes={"scopes": "Name the banks."})
    return team


def login_as(client, workspace, team, role):
    people = {Role.OWNER: team.owner, Role.TECHNICAL_LEAD: team.technical_lead,
              Role.SECURITY_OWNER: team.security, Role.BILLING_CONTACT: team.billing,
              Role.COMPLIANCE: team.compliance}
    # The organization requires two-factor authentication (the audit-ready checks).
    user = people.get(role) or MembershipFactory(organization=workspace.organization,
                                                 roles=[role], user__mfa=True).user
    client.force_login(user)


def test_the_table_is_the_catalogue():
    assert {role: {stage.kind for stage in catalog.STAGES if catalog.may_read(stage.kind,
                                                                              [role])}
            for role in Role} == READS


@pytest.mark.parametrize("stage", catalog.STAGES, ids=lambda stage: stage.kind)
def test_whoever_fills_in_a_stage_or_makes_its_checks_pass_reads_it(stage):
    assert set(stage.submitters) | set(stage.evidence_from) <= set(stage.readers)


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role))
def test_each_stage_page_shows_its_contents_only_to_its_readers(
    client, workspace, review, role
):
    login_as(client, workspace, review, role)

    for spec in catalog.STAGES:
        page = client.get(url(workspace, "review_stage", spec.kind)).content.decode()

        assert f"<h1>{spec.title}" in page
        assert f">{STATUS[spec.kind]}</span>" in page
        assert f"Filled in by: {spec.owner_label}" in page
        readable = spec.kind in READS[role]
        for secret in PAGE_SECRETS[spec.kind]:
            assert (secret in page) is readable, (spec.kind, secret)
        assert ("Its answers, evidence and decisions are shown to these roles only: "
                f"{spec.readers_label}." in page) is not readable
    audit = client.get(url(workspace, "review_stage", "audit")).content.decode()
    assert ("pentest-2026.pdf" in audit) is ("audit" in READS[role])


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role))
def test_the_dossier_page_shows_each_stage_s_contents_only_to_its_readers(
    client, workspace, review, role
):
    login_as(client, workspace, review, role)

    page = client.get(url(workspace, "review_dossier")).content.decode()

    for spec in catalog.STAGES:
        section = page.split(f'id="stage-{spec.kind}">')[1].split("</section>")[0]
        assert section.startswith(spec.title)
        assert f"<strong>Status:</strong> {STATUS[spec.kind]}" in section
        assert f"<strong>Filled in by:</strong> {spec.owner_label}" in section
        readable = spec.kind in READS[role]
        for secret in PAGE_SECRETS[spec.kind]:
            assert (secret in section) is readable, (spec.kind, secret)
        assert ("<h3>Decisions</h3>" in section) is readable


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role))
def test_the_json_dossier_holds_each_stage_s_contents_only_for_its_readers(
    client, workspace, review, role
):
    login_as(client, workspace, review, role)

    response = client.get(url(workspace, "review_dossier_json"))

    text = response.content.decode()
    stages = {stage["kind"]: stage for stage in json.loads(text)["stages"]}
    for spec in catalog.STAGES:
        stage = stages[spec.kind]
        assert (stage["title"], stage["status_label"], stage["filled_in_by"]) == (
            spec.title, STATUS[spec.kind], spec.owner_label)
        assert stage["readable"] is (spec.kind in READS[role])
        assert stage["read_by"] == [r.label for r in Role if spec.kind in READS[r]]
        if not stage["readable"]:
            assert set(stage) == {"kind", "title", "status", "status_label", "owner_roles",
                                  "filled_in_by", "readable", "read_by"}
    secrets = {"consent": ["shop.example.com/terms", "Say which bank"],
               "billing": ["Shop GmbH", "billing@shop.example.com", '"plan"'],
               "integration": ["/v1/ping"], "audit": ['"q01"', "pentest-2026.pdf"]}
    for kind, found in secrets.items():
        for secret in found:
            assert (secret in text) is (kind in READS[role]), (kind, secret)


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role))
def test_the_review_s_files_are_served_only_to_their_stage_s_readers(
    client, workspace, review, role
):
    login_as(client, workspace, review, role)

    screenshot = client.get(url(workspace, "review_screenshot"))
    attachment = client.get(url(workspace, "review_attachment"))

    assert screenshot.status_code == (200 if "consent" in READS[role] else 404)
    assert attachment.status_code == (200 if "audit" in READS[role] else 404)
    if "audit" in READS[role]:
        assert b"".join(attachment.streaming_content) == b"%PDF-1.7 report"
    else:
        assert b"PDF" not in attachment.content


@pytest.mark.django_db
@pytest.mark.parametrize("size", [10, 200])
def test_review_pages_cost_the_same_queries_at_10_and_200_members(
    client, workspace, review, size, django_assert_max_num_queries
):
    for index in range(size):
        MembershipFactory(organization=workspace.organization,
                          roles=[list(Role)[index % len(Role)]])
    client.force_login(review.compliance)
    bounds = {url(workspace, "review_stage", "consent"): (10, "<h1>Consent review"),
              url(workspace, "review_stage", "billing"): (13, "<h1>Billing setup"),
              url(workspace, "review_stage", "integration"): (15, "<h1>Integration"),
              url(workspace, "review_stage", "audit"): (13, "<h1>Audit-ready checks"),
              url(workspace, "review_dossier"): (13, "<h1>Production review dossier"),
              url(workspace, "review_dossier_json"): (9, '"kind": "audit"')}
    for page, (bound, text) in bounds.items():
        client.get(page)
        with django_assert_max_num_queries(bound):
            assert text in client.get(page).content.decode()
    client.force_login(MembershipFactory(organization=workspace.organization,
                                         roles=[Role.VIEWER], user__mfa=True).user)
    for page, (bound, text) in bounds.items():
        with django_assert_max_num_queries(bound):
            assert text in client.get(page).content.decode()
