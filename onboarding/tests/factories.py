"""Production review fixtures: a full team, passing evidence, and complete answers."""

from dataclasses import dataclass
from datetime import timedelta

from allauth.mfa.models import Authenticator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from audit.models import Action
from audit.services import record
from onboarding.models import ProductionReview, ReviewStage
from onboarding.review import services
from onboarding.review.catalog import QUESTIONS
from usage.histogram import BUCKETS
from usage.models import HourlyUsage, WorkspaceUsage
from usage.tests.factories import make_key
from webhooks.models import Endpoint
from workspaces.models import BillingProfile, Membership, Organization
from workspaces.roles import Role
from workspaces.tests.factories import MembershipFactory

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

CONSENT = {
    "scopes": {"accounts:read": "Show balances on the dashboard.",
               "transactions:read": "Categorise spending for the monthly report."},
    "consent_duration": "365",
    "revocation": "Settings > Connected banks > Disconnect, or by email to support.",
    "privacy_policy_url": "https://shop.example.com/privacy",
    "terms_url": "https://shop.example.com/terms",
    "consent_screen": "A modal listing each scope with its purpose and Allow / Cancel.",
}
QUESTIONNAIRE = {key: "yes" for key, _ in QUESTIONS}


def screenshot(content: bytes = PNG, name: str = "consent.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="image/png")


TOTP_SECRET = "JBSWY3DPEHPK3PXP"


def turn_on_mfa(user) -> None:
    Authenticator.objects.get_or_create(user=user, type=Authenticator.Type.TOTP,
                                        defaults={"data": {"secret": TOTP_SECRET}})


@dataclass
class Team:
    owner: object
    technical_lead: object
    compliance: object
    billing: object
    security: object


def review_team(workspace) -> Team:
    """The workspace's Owner plus one member for each stage, with sandbox access."""
    workspace.sandbox_approved_at = timezone.now()
    workspace.save(update_fields=["sandbox_approved_at"])
    owner = Membership.objects.get(organization=workspace.organization,
                                   roles__contains=[Role.OWNER]).user

    def member(role, name):
        return MembershipFactory(organization=workspace.organization, roles=[role],
                                 user__full_name=name).user

    return Team(owner, member(Role.TECHNICAL_LEAD, "Tess Lead"),
                member(Role.COMPLIANCE, "Cora Compliance"),
                member(Role.BILLING_CONTACT, "Dana Lee"),
                member(Role.SECURITY_OWNER, "Sam Secure"))


def usage_row(workspace, key, endpoint, *, at, count=10, errors=0, status_class=2):
    return HourlyUsage.objects.create(
        workspace=workspace, api_key=key, environment="sandbox", endpoint=endpoint,
        method="GET", status_class=status_class, period_start=at, count=count,
        error_count=errors, latency_sum_ms=count * 40, latency_buckets=[0] * len(BUCKETS))


def pass_integration(workspace) -> None:
    """Sandbox calls to every required endpoint and an acknowledged webhook."""
    key = make_key(workspace)
    hour = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    for endpoint in ("/v1/ping", "/v1/accounts", "/v1/transactions"):
        usage_row(workspace, key, endpoint, at=hour)
    Endpoint.objects.create(workspace=workspace, environment="sandbox",
                            url="https://hooks.example.com/in", event_types=["webhook.test"],
                            secret_encrypted="x", created_by=workspace.created_by,
                            first_acknowledged_at=timezone.now() - timedelta(hours=1))


def pass_billing(workspace) -> None:
    BillingProfile.objects.update_or_create(organization=workspace.organization, defaults={
        "legal_name": "Shop GmbH", "address_line1": "Hauptstr. 1", "city": "Berlin",
        "postal_code": "10115", "country": "DE", "tax_id": "DE123456789",
        "billing_email": "billing@shop.example.com"})


def require_mfa_of_everyone(organization) -> None:
    """Every member turns on two-factor authentication and an Owner requires it (the
    settings page that does this has its own tests)."""
    for membership in Membership.objects.for_organization(organization).select_related("user"):
        turn_on_mfa(membership.user)
    Organization.objects.filter(pk=organization.pk).update(require_mfa=True)
    organization.require_mfa = True


def pass_audit(workspace, team: Team) -> None:
    """Two-factor authentication on for everyone and required, and the log exported."""
    require_mfa_of_everyone(workspace.organization)
    record(action=Action.AUDIT_EXPORTED, actor=team.security,
           organization=workspace.organization)


def submit_all(workspace, team: Team) -> dict[str, ReviewStage]:
    """Every stage filled in with passing evidence and submitted."""
    services.start_production_review(actor=team.owner, workspace=workspace)
    pass_integration(workspace)
    pass_billing(workspace)
    pass_audit(workspace, team)
    services.save_stage_answers(actor=team.compliance, workspace=workspace, kind="consent",
                                answers=CONSENT, screenshot=screenshot())
    services.save_stage_answers(actor=team.billing, workspace=workspace, kind="billing",
                                answers={"plan": "growth"})
    services.save_stage_answers(actor=team.security, workspace=workspace, kind="audit",
                                answers=QUESTIONNAIRE)
    for kind, actor in [("consent", team.compliance), ("billing", team.billing),
                        ("audit", team.security)]:
        services.submit_stage(actor=actor, workspace=workspace, kind=kind)
    services.sync_portal_stages(workspace=workspace)  # the portal submits the integration
    review = ProductionReview.objects.get(workspace=workspace)
    return {stage.kind: stage for stage in review.stages.all()}


def reviewer(user_factory, **kwargs):
    """A platform reviewer with two-factor authentication on."""
    user = user_factory(is_staff=True, **kwargs)
    turn_on_mfa(user)
    return user


def review_with_consent_submitted(workspace, owner):
    """Sandbox work done, the review started and its consent stage with the reviewers."""
    workspace.sandbox_approved_at = timezone.now()
    workspace.save(update_fields=["sandbox_approved_at"])
    pass_integration(workspace)
    WorkspaceUsage.objects.update_or_create(workspace=workspace, defaults={
        "first_call_at": workspace.sandbox_approved_at,
        "usage_reviewed_at": workspace.sandbox_approved_at})
    services.start_production_review(actor=owner, workspace=workspace)
    ReviewStage.objects.filter(review__workspace=workspace, kind="consent").update(
        status="submitted")


def owner_alone_at_billing_setup(client, workspace, owner) -> str:
    """An Owner with no Billing contact, signed in with two-factor, whose review reached
    billing setup; returns the prefilled invitation link they should be offered."""
    review_with_consent_submitted(workspace, owner)
    turn_on_mfa(owner)
    client.force_login(owner)
    return reverse("invitations", args=[workspace.organization.slug]) + "?role=billing_contact"
