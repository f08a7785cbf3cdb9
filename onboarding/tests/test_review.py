import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from audit.models import Action, AuditEvent
from keys.models import ApiKey
from keys.policy import DEFAULT_MAX_KEY_AGE_DAYS
from keys.services import issue_key
from onboarding.models import ProductionReview, ReviewStage, StageStatus
from onboarding.review import catalog, services
from onboarding.review.evidence import checks_for, integration_checks
from onboarding.review.selectors import changes_since_last_decision
from onboarding.reviewers import ensure_reviewers_group
from onboarding.services import ReviewConflict
from onboarding.tasks import sync_portal_stages as sync_portal_stages_task
from onboarding.tests.factories import (
    CONSENT,
    PNG,
    QUESTIONNAIRE,
    pass_audit,
    pass_billing,
    pass_integration,
    review_team,
    reviewer,
    screenshot,
    submit_all,
    turn_on_mfa,
    usage_row,
)
from webhooks.models import Event
from workspaces.models import Organization
from workspaces.roles import Role


@pytest.fixture
def started(workspace, team):
    return services.start_production_review(actor=team.owner, workspace=workspace)


def stage(workspace, kind) -> ReviewStage:
    return ReviewStage.objects.get(review__workspace=workspace, kind=kind)


def error_keys(excinfo) -> set[str]:
    return set(excinfo.value.message_dict)


# --- Pure rules ---------------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "answers", "complete", "errors"), [
    ("consent", {}, False, set()),
    ("consent", {}, True, {"scopes", "consent_duration", "revocation", "privacy_policy_url",
                           "terms_url", "consent_screen"}),
    ("consent", CONSENT, True, set()),
    ("consent", {**CONSENT, "privacy_policy_url": "http://shop.example.com/p"}, True,
     {"privacy_policy_url"}),
    ("consent", {**CONSENT, "scopes": {"accounts:read": " "}}, True, {"scopes"}),
    ("consent", {**CONSENT, "scopes": {"payments:write": "pay"}}, True, {"scopes"}),
    ("consent", {"plan": "growth"}, False, {"plan"}),
    ("billing", {"plan": "platinum"}, False, {"plan"}),
    ("billing", {}, True, {"plan"}),
    ("audit", {**QUESTIONNAIRE, "q03": "maybe"}, True, {"q03"}),
    ("audit", {"q01": "yes"}, True, set(QUESTIONNAIRE) - {"q01"}),
])
def test_answer_rules(kind, answers, complete, errors):
    assert set(catalog.answer_errors(kind, answers, complete=complete)) == errors


@pytest.mark.parametrize(("head", "size", "expected"), [
    (PNG, 100, "image/png"),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 12, 100, "image/jpeg"),
    (b"RIFF\x00\x00\x00\x00WEBPVP8 ", 100, "image/webp"),
    (b"GIF89a" + b"\x00" * 10, 100, "Upload a PNG, JPEG or WebP image."),
    (b"<svg xmlns='http:", 100, "Upload a PNG, JPEG or WebP image."),
    (PNG, catalog.SCREENSHOT_MAX_BYTES + 1, "The screenshot must be under 2 MB."),
])
def test_screenshot_type_is_read_from_the_bytes(head, size, expected):
    try:
        assert catalog.screenshot_type(head, size) == expected
    except ValueError as error:
        assert str(error) == expected


def test_every_stage_says_who_fills_it_in_and_fifteen_questions():
    assert [(s.kind, s.owner_label) for s in catalog.STAGES] == [
        ("consent", "Compliance / audit, Technical lead or Owner"),
        ("billing", "Billing contact or Owner"),
        ("integration", "Nobody: the portal submits it from sandbox activity"),
        ("audit", "Security owner")]
    assert len(catalog.QUESTIONS) == 15


@pytest.mark.parametrize(("answers", "files", "errors"), [
    ({**CONSENT, "consent_screen": ""}, frozenset(), {"consent_screen"}),
    ({**CONSENT, "consent_screen": ""}, frozenset({"screenshot"}), set()),
    (CONSENT, frozenset(), set()),
])
def test_the_consent_screen_is_described_or_shown_one_required(answers, files, errors):
    assert set(catalog.answer_errors("consent", answers, complete=True, files=files)) == errors


@pytest.mark.parametrize(("answers", "errors"), [
    ({**QUESTIONNAIRE, "q04": "no"}, {"q04_why": "Say in a few words why not (under 500 "
                                                 "characters)."}),
    ({**QUESTIONNAIRE, "q04": "no", "q04_why": "Keys are rotated yearly."}, {}),
    ({**QUESTIONNAIRE, "q04": "not_applicable"}, {}),
    ({**QUESTIONNAIRE, "q04": "no", "q04_why": "x" * 501}, {"q04_why": "Say in a few words "
                                                            "why not (under 500 characters)."}),
])
def test_a_no_in_the_questionnaire_needs_a_short_explanation(answers, errors):
    assert catalog.answer_errors("audit", answers, complete=True) == errors


@pytest.mark.parametrize(("head", "size", "expected"), [
    (b"%PDF-1.7\n" + b"\x00" * 8, 100, "application/pdf"),
    (PNG, 100, "image/png"),
    (b"PK\x03\x04" + b"\x00" * 12, 100, "Attach a PDF, PNG or JPEG file."),
    (b"%PDF-1.7\n", catalog.ATTACHMENT_MAX_BYTES + 1, "The evidence file must be under 5 MB."),
])
def test_the_evidence_file_type_is_read_from_the_bytes(head, size, expected):
    try:
        assert catalog.attachment_type(head, size) == expected
    except ValueError as error:
        assert str(error) == expected


# --- Starting and filling in ------------------------------------------------------------

@pytest.mark.django_db
def test_the_review_starts_after_sandbox_access_with_four_stages_once(workspace, owner):
    with pytest.raises(ValidationError, match="once sandbox access is approved"):
        services.start_production_review(actor=owner, workspace=workspace)
    team = review_team(workspace)

    first = services.start_production_review(actor=team.owner, workspace=workspace)
    again = services.start_production_review(actor=team.billing, workspace=workspace)

    assert first == again
    assert list(ReviewStage.objects.for_workspace(workspace).values_list("kind", "status")) == [
        ("consent", "not_started"), ("billing", "not_started"),
        ("integration", "not_started"), ("audit", "not_started")]
    assert AuditEvent.objects.filter(action=Action.REVIEW_STARTED).count() == 1


@pytest.mark.django_db
def test_only_a_stage_owner_changes_a_stage(workspace, team, started, membership_factory):
    developer = membership_factory(organization=workspace.organization,
                                   roles=[Role.DEVELOPER]).user

    for actor, kind in [(developer, "consent"), (team.billing, "consent"),
                        (team.owner, "audit"), (team.compliance, "audit")]:
        with pytest.raises(PermissionDenied):
            services.save_stage_answers(actor=actor, workspace=workspace, kind=kind,
                                        answers={})

    saved = services.save_stage_answers(actor=team.technical_lead, workspace=workspace,
                                        kind="consent", answers={"terms_url": CONSENT["terms_url"]})
    assert (saved.status, saved.answers) == ("in_progress", {"terms_url": CONSENT["terms_url"]})


@pytest.mark.django_db
def test_the_screenshot_is_validated_and_stored_privately(workspace, team, started, settings):
    with pytest.raises(ValidationError) as excinfo:
        services.save_stage_answers(actor=team.compliance, workspace=workspace, kind="consent",
                                    answers={}, screenshot=screenshot(b"GIF89a....", "a.png"))
    assert excinfo.value.message_dict == {"screenshot": ["Upload a PNG, JPEG or WebP image."]}
    big = PNG + b"\x00" * catalog.SCREENSHOT_MAX_BYTES
    with pytest.raises(ValidationError, match="under 2 MB"):
        services.save_stage_answers(actor=team.compliance, workspace=workspace, kind="consent",
                                    answers={}, screenshot=screenshot(big))

    saved = services.save_stage_answers(actor=team.compliance, workspace=workspace,
                                        kind="consent", answers={},
                                        screenshot=screenshot(name="../../evil.png"))

    path = Path(saved.screenshot.path)
    assert path.parent == Path(settings.MEDIA_ROOT) / "private" / "review-screenshots"
    assert path.read_bytes() == PNG and "evil" not in path.name
    assert saved.screenshot_type == "image/png"
    with pytest.raises(ValueError, match="no URL"):
        saved.screenshot.url  # noqa: B018


@pytest.mark.django_db
def test_an_incomplete_stage_cannot_be_submitted(workspace, team, started):
    services.save_stage_answers(actor=team.compliance, workspace=workspace, kind="consent",
                                answers={"terms_url": CONSENT["terms_url"]})

    with pytest.raises(ValidationError) as excinfo:
        services.submit_stage(actor=team.compliance, workspace=workspace, kind="consent")

    assert error_keys(excinfo) == {"scopes", "consent_duration", "revocation",
                                   "privacy_policy_url", "consent_screen"}
    assert excinfo.value.message_dict["consent_screen"] == [
        "Describe the consent screen or upload a screenshot of it; one of the two is required."]
    assert stage(workspace, "consent").status == "in_progress"


@pytest.mark.django_db
def test_billing_needs_a_complete_profile_and_a_plan(workspace, team, started):
    services.save_stage_answers(actor=team.billing, workspace=workspace, kind="billing",
                                answers={"plan": "growth"})
    with pytest.raises(ValidationError) as excinfo:
        services.submit_stage(actor=team.billing, workspace=workspace, kind="billing")
    assert excinfo.value.message_dict == {"billing_profile": ["No billing profile yet."]}

    pass_billing(workspace)
    submitted = services.submit_stage(actor=team.billing, workspace=workspace, kind="billing")

    assert (submitted.status, submitted.version) == ("submitted", 1)
    assert [(c["key"], c["passed"]) for c in submitted.evidence] == [
        ("billing_contact", True), ("billing_profile", True)]
    assert submitted.evidence[0]["detail"] == "Dana Lee"


def failing(workspace) -> dict[str, str]:
    return {c.key: c.detail for c in integration_checks(workspace) if not c.passed}


@pytest.mark.django_db
def test_the_portal_submits_the_integration_verification_when_every_check_passes(
    workspace, team, started, user_factory, django_capture_on_commit_callbacks
):
    # given a started review without sandbox evidence: nobody may submit it by hand
    with pytest.raises(ValidationError, match="the portal submits it"):
        services.submit_stage(actor=team.technical_lead, workspace=workspace,
                              kind="integration")
    assert services.sync_portal_stages(workspace=workspace) is None
    assert set(failing(workspace)) == {"endpoint:/v1/ping", "endpoint:/v1/accounts",
                                       "endpoint:/v1/transactions", "webhook_acknowledged",
                                       "error_rate"}
    pass_integration(workspace)
    key = ApiKey.objects.get(workspace=workspace)
    usage_row(workspace, key, "/v1/transactions", at=timezone.now() - timedelta(hours=5),
              count=2, errors=2, status_class=5)  # 2 errors in 32 calls: 6.25%
    old = ApiKey.objects.filter(pk=key.pk)
    old.update(created_at=timezone.now() - timedelta(days=DEFAULT_MAX_KEY_AGE_DAYS + 1))
    assert failing(workspace) == {
        "error_rate": "2 errors in 32 calls (6.2%).",
        "key_age": f"Rotate or revoke: Backend ({key.public_id}). The key policy allows "
                   "90 days in sandbox and 90 days in production."}
    assert services.sync_portal_stages(workspace=workspace) is None
    assert stage(workspace, "integration").status == "not_started"
    usage_row(workspace, key, "/v1/ping", at=timezone.now() - timedelta(hours=6), count=30)
    old.update(revoked_at=timezone.now())
    decider = reviewer(user_factory, email="rita@platform.test")
    ensure_reviewers_group().user_set.add(decider)
    user_factory(is_staff=True, email="support@platform.test")  # staff, but no reviewer
    mail.outbox.clear()

    # when every check passes and the periodic task runs
    with django_capture_on_commit_callbacks(execute=True):
        assert sync_portal_stages_task() == 1

    # then the portal submitted it, the reviewers heard, and a second run changes nothing
    submitted = stage(workspace, "integration")
    assert (submitted.status, submitted.version, submitted.submitted_by) == ("submitted", 1,
                                                                              None)
    assert all(check["passed"] for check in submitted.evidence)
    assert submitted.evidence[0]["at"] is not None
    event = AuditEvent.objects.get(action=Action.REVIEW_STAGE_SUBMITTED)
    assert (event.actor, event.details["by"]) == (None, "portal")
    assert [(m.to, m.subject) for m in mail.outbox] == [
        ([decider.email], f"To review: integration verification of {workspace} "
                          f"({workspace.organization})")]
    assert "submitted by the portal, from sandbox activity" in mail.outbox[0].body
    assert sync_portal_stages_task() == 0


@pytest.mark.django_db
def test_the_portal_withdraws_its_submission_when_a_check_stops_passing(
    workspace, team, user_factory
):
    # given a review started with passing evidence: the portal submitted at once
    pass_integration(workspace)
    services.start_production_review(actor=team.owner, workspace=workspace)
    assert stage(workspace, "integration").status == "submitted"

    # when a check stops passing before a decision (the only key gets too old)
    ApiKey.objects.update(created_at=timezone.now()
                          - timedelta(days=DEFAULT_MAX_KEY_AGE_DAYS + 1))
    assert services.sync_portal_stages(workspace=workspace) == "withdrawn"

    # then the stage is back in progress, and a reviewer deciding it is told why
    withdrawn = stage(workspace, "integration")
    assert withdrawn.status == "in_progress"
    assert [c["key"] for c in withdrawn.evidence if not c["passed"]] == ["key_age"]
    assert AuditEvent.objects.get(action=Action.REVIEW_STAGE_WITHDRAWN).details["failing"] \
        == ["key_age"]
    with pytest.raises(ReviewConflict, match="the portal withdrew it"):
        services.decide_review_stage(reviewer=reviewer(user_factory), stage_id=withdrawn.pk,
                                     version=1, approve=True)
    ApiKey.objects.update(created_at=timezone.now())
    assert services.sync_portal_stages(workspace=workspace) == "submitted"
    assert stage(workspace, "integration").version == 2


@pytest.mark.django_db
def test_after_a_change_request_the_portal_resubmits_only_on_new_evidence(
    workspace, team, user_factory
):
    stages = submit_all(workspace, team)
    services.decide_review_stage(reviewer=reviewer(user_factory),
                                 stage_id=stages["integration"].pk, version=1, approve=False,
                                 changes={"error_rate": "Show a week of traffic."})

    assert services.sync_portal_stages(workspace=workspace) is None
    key = ApiKey.objects.get(workspace=workspace)
    usage_row(workspace, key, "/v1/accounts", at=timezone.now() - timedelta(hours=30),
              count=500)
    assert services.sync_portal_stages(workspace=workspace) == "submitted"
    assert stage(workspace, "integration").version == 2


@pytest.mark.django_db
def test_audit_checks_name_who_lacks_mfa(workspace, team, started):
    services.save_stage_answers(actor=team.security, workspace=workspace, kind="audit",
                                answers=QUESTIONNAIRE)
    pass_audit(workspace, team)
    team.technical_lead.authenticator_set.all().delete()

    with pytest.raises(ValidationError) as excinfo:
        services.submit_stage(actor=team.security, workspace=workspace, kind="audit")

    assert excinfo.value.message_dict == {"mfa": ["Not yet on for: Tess Lead."]}
    turn_on_mfa(team.technical_lead)
    assert services.submit_stage(actor=team.security, workspace=workspace,
                                 kind="audit").status == "submitted"


@pytest.mark.django_db
def test_requiring_mfa_of_everyone_is_recommended_not_required(workspace, team, started):
    """DESIGN §4 asks two-factor of Owners and Technical leads; the organization-wide
    requirement is shown as a recommendation and does not hold the stage back."""
    services.save_stage_answers(actor=team.security, workspace=workspace, kind="audit",
                                answers=QUESTIONNAIRE)
    pass_audit(workspace, team)
    Organization.objects.filter(pk=workspace.organization_id).update(require_mfa=False)
    workspace.organization.refresh_from_db()

    check = {c.key: c for c in checks_for("audit", workspace)}["mfa_required"]
    assert (check.passed, check.advisory, check.blocks) == (False, True, False)
    assert check.detail.startswith("Recommended, not required for production")
    assert services.submit_stage(actor=team.security, workspace=workspace,
                                 kind="audit").status == "submitted"


@pytest.mark.django_db
def test_submission_locks_the_answers(workspace, team, started):
    services.save_stage_answers(actor=team.compliance, workspace=workspace, kind="consent",
                                answers=CONSENT, screenshot=screenshot())
    services.submit_stage(actor=team.compliance, workspace=workspace, kind="consent")

    with pytest.raises(ValidationError, match="submitted; its answers are locked"):
        services.save_stage_answers(actor=team.compliance, workspace=workspace,
                                    kind="consent", answers={"terms_url": "https://x.example"})
    with pytest.raises(ValidationError, match="already submitted"):
        services.submit_stage(actor=team.compliance, workspace=workspace, kind="consent")
    assert stage(workspace, "consent").answers == CONSENT


# --- Decisions -------------------------------------------------------------------------------

@pytest.mark.django_db
def test_change_requests_name_fields_and_the_resubmission_shows_what_changed(
    workspace, team, user_factory, django_capture_on_commit_callbacks
):
    stages = submit_all(workspace, team)
    decider = reviewer(user_factory)
    consent = stages["consent"]
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.decide_review_stage(
            reviewer=decider, stage_id=consent.pk, version=1, approve=False,
            notes="Nearly there.", changes={"terms_url": "This page is a 404.",
                                            "screenshot": "Show the scopes list."})

    consent.refresh_from_db()
    assert consent.status == "changes_requested"
    assert consent.requested_changes == {"terms_url": "This page is a 404.",
                                         "screenshot": "Show the scopes list."}
    # Everyone who may fill it in: its named owners and the organization's Owner.
    assert [m.to for m in mail.outbox] == [sorted([team.compliance.email, team.owner.email,
                                                   team.technical_lead.email])]
    assert "Notes from the reviewer: Nearly there." in mail.outbox[0].body
    assert "- Terms URL: This page is a 404." in mail.outbox[0].body
    with pytest.raises(ValidationError) as excinfo:
        services.save_stage_answers(actor=team.compliance, workspace=workspace,
                                    kind="consent",
                                    answers={"privacy_policy_url": "https://shop.example.com/p2"})
    assert error_keys(excinfo) == {"privacy_policy_url"}

    services.save_stage_answers(actor=team.compliance, workspace=workspace, kind="consent",
                                answers={"terms_url": "https://shop.example.com/legal/terms"},
                                screenshot=screenshot(PNG + b"new"))
    resubmitted = services.submit_stage(actor=team.compliance, workspace=workspace,
                                        kind="consent")

    assert (resubmitted.status, resubmitted.version) == ("submitted", 2)
    assert changes_since_last_decision(resubmitted) == ["terms_url", "screenshot"]
    assert changes_since_last_decision(stages["billing"]) == []
    assert list(AuditEvent.objects.filter(target_id=str(consent.pk)).order_by("id")
                .values_list("action", flat=True)) == [
        Action.REVIEW_STAGE_UPDATED, Action.REVIEW_STAGE_SUBMITTED,
        Action.REVIEW_CHANGES_REQUESTED, Action.REVIEW_STAGE_UPDATED,
        Action.REVIEW_STAGE_SUBMITTED]


@pytest.mark.django_db
def test_a_change_request_needs_a_reason_for_each_known_item(workspace, team, user_factory):
    stages = submit_all(workspace, team)
    decider = reviewer(user_factory)
    integration = stages["integration"].pk

    for changes, message in [({}, "Name at least one"),
                             ({"plan": "Wrong"}, "Not part of this stage: plan."),
                             ({"error_rate": " "}, "Give a reason for: error_rate.")]:
        with pytest.raises(ValidationError, match=message):
            services.decide_review_stage(reviewer=decider, stage_id=integration, version=1,
                                         approve=False, changes=changes)
    with pytest.raises(ValidationError, match="cannot ask for changes"):
        services.decide_review_stage(reviewer=decider, stage_id=integration, version=1,
                                     approve=True, changes={"error_rate": "High"})
    assert stage(workspace, "integration").status == "submitted"


@pytest.mark.django_db
def test_reviewers_need_staff_mfa_and_no_membership(
    workspace, team, user_factory, membership_factory
):
    stages = submit_all(workspace, team)
    billing = stages["billing"].pk
    without_mfa = user_factory(is_staff=True)
    former_member = reviewer(user_factory)
    membership_factory(user=former_member, organization=workspace.organization,
                       roles=[Role.VIEWER], is_active=False)
    customer = team.owner
    turn_on_mfa(user_factory())

    with pytest.raises(ValidationError, match="Turn on two-factor"):
        services.decide_review_stage(reviewer=without_mfa, stage_id=billing, version=1,
                                     approve=True)
    with pytest.raises(ValidationError, match="You belong to this organization"):
        services.decide_review_stage(reviewer=former_member, stage_id=billing, version=1,
                                     approve=True)
    with pytest.raises(PermissionDenied):
        services.decide_review_stage(reviewer=customer, stage_id=billing, version=1,
                                     approve=True)
    assert stage(workspace, "billing").status == "submitted"
    assert not AuditEvent.objects.filter(action=Action.REVIEW_STAGE_APPROVED).exists()


@pytest.mark.django_db
def test_a_stale_decision_conflicts(workspace, team, user_factory):
    stages = submit_all(workspace, team)
    first, second = reviewer(user_factory), reviewer(user_factory)
    billing = stages["billing"].pk
    services.decide_review_stage(reviewer=first, stage_id=billing, version=1, approve=False,
                                 changes={"plan": "Growth does not cover your volume."})
    with pytest.raises(ReviewConflict, match="someone else decided it"):
        services.decide_review_stage(reviewer=second, stage_id=billing, version=1,
                                     approve=True)

    services.save_stage_answers(actor=team.billing, workspace=workspace, kind="billing",
                                answers={"plan": "scale"})
    services.submit_stage(actor=team.billing, workspace=workspace, kind="billing")

    with pytest.raises(ReviewConflict, match="resubmitted this stage since you opened it"):
        services.decide_review_stage(reviewer=second, stage_id=billing, version=1,
                                     approve=True)
    assert services.decide_review_stage(reviewer=second, stage_id=billing, version=2,
                                        approve=True).status == "approved"


@pytest.mark.django_db(transaction=True)
def test_two_reviewers_deciding_at_once_make_one_decision(workspace, team, user_factory):
    stages = submit_all(workspace, team)
    reviewers = [reviewer(user_factory) for _ in range(2)]
    barrier, outcomes = threading.Barrier(2), []

    def decide(decider, approve):
        barrier.wait()
        try:
            services.decide_review_stage(
                reviewer=decider, stage_id=stages["consent"].pk, version=1, approve=approve,
                changes=None if approve else {"revocation": "Too vague."})
            outcomes.append("ok")
        except ValidationError as error:
            outcomes.append(error.messages[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=(r, i == 0))
               for i, r in enumerate(reviewers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes)[1] == "ok"
    assert "someone else decided it meanwhile" in sorted(outcomes)[0]
    assert stage(workspace, "consent").decisions.count() == 1
    assert AuditEvent.objects.filter(action__in=[Action.REVIEW_STAGE_APPROVED,
                                                 Action.REVIEW_CHANGES_REQUESTED]).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_last_two_approvals_at_once_still_unlock_production(workspace, team, user_factory):
    stages = submit_all(workspace, team)
    reviewers = [reviewer(user_factory) for _ in range(2)]
    for kind in ("consent", "billing"):
        services.decide_review_stage(reviewer=reviewers[0], stage_id=stages[kind].pk,
                                     version=1, approve=True)
    barrier = threading.Barrier(2)

    def approve(decider, kind):
        barrier.wait()
        try:
            services.decide_review_stage(reviewer=decider, stage_id=stages[kind].pk,
                                         version=1, approve=True)
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(r, k))
               for r, k in zip(reviewers, ["integration", "audit"], strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    workspace.refresh_from_db()
    assert workspace.production_approved_at is not None
    assert AuditEvent.objects.filter(action=Action.PRODUCTION_APPROVED).count() == 1


# --- Production unlock ------------------------------------------------------------------------

@pytest.mark.django_db
def test_four_approvals_unlock_production_in_the_same_transaction(
    workspace, team, user_factory, django_capture_on_commit_callbacks
):
    stages = submit_all(workspace, team)
    decider = reviewer(user_factory)
    with pytest.raises(ValidationError, match="once all four production review stages"):
        issue_key(actor=team.technical_lead, workspace=workspace, environment="production",
                  name="live", scopes=["accounts:read"])
    for kind in ("consent", "billing", "integration"):
        services.decide_review_stage(reviewer=decider, stage_id=stages[kind].pk, version=1,
                                     approve=True)
    workspace.refresh_from_db()
    assert workspace.production_approved_at is None
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.decide_review_stage(reviewer=decider, stage_id=stages["audit"].pk,
                                     version=1, approve=True, notes="All good.")

    workspace.refresh_from_db()
    review = ProductionReview.objects.get(workspace=workspace)
    assert workspace.production_approved_at == review.approved_at is not None
    event = Event.objects.get(workspace=workspace, type="production.approved")
    assert event.data == {"workspace": workspace.slug,
                          "approved_at": workspace.production_approved_at.isoformat()}
    subjects = {m.subject: m.to for m in mail.outbox}
    assert subjects[f"{workspace} is approved for production"] == sorted(
        [team.owner.email, team.technical_lead.email])
    assert subjects[f"Audit-ready checks for {workspace}: approved"] == [team.security.email]
    assert AuditEvent.objects.filter(action=Action.PRODUCTION_APPROVED,
                                     workspace=workspace, actor=decider).count() == 1
    key, secret = issue_key(actor=team.technical_lead, workspace=workspace,
                            environment="production", name="live", scopes=["accounts:read"])
    assert secret.startswith("sk_live_") and key.environment == "production"
    assert all(s.status == StageStatus.APPROVED for s in review.stages.all())
