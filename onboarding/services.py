"""Writes of the onboarding lanes: the first run, sandbox requests and their decisions."""

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse

from accounts.mail import send_templated
from audit.models import Action
from audit.services import record
from onboarding.models import SandboxRequest, SandboxStatus
from onboarding.reviewers import check_reviewer
from outbox.services import emit
from workspaces.models import Membership, Organization, Workspace
from workspaces.services.organizations import create_organization, create_workspace


def _policy_approves(actor, workspace: Workspace) -> bool:
    verified = EmailAddress.objects.filter(user=actor, email__iexact=actor.email,
                                           verified=True).exists()
    attached = Membership.objects.for_organization(workspace.organization).filter(
        user=actor).exists()
    return settings.SANDBOX_AUTO_APPROVE and verified and attached


def _grant_sandbox(workspace: Workspace, at) -> None:
    Workspace.objects.filter(pk=workspace.pk, sandbox_approved_at__isnull=True).update(
        sandbox_approved_at=at)


def _emit_decision(sandbox_request: SandboxRequest) -> None:
    approved = sandbox_request.status == SandboxStatus.APPROVED
    data = {"workspace": sandbox_request.workspace.slug,
            "decided_at": sandbox_request.decided_at.isoformat()}
    emit(workspace=sandbox_request.workspace, environment="sandbox",
         type="sandbox.approved" if approved else "sandbox.denied",
         data=data if approved else {**data, "reason": sandbox_request.reason})


@transaction.atomic
def request_sandbox_access(*, actor, workspace: Workspace, use_case: str,
                           expected_monthly_calls: int, product_areas
                           ) -> SandboxRequest:
    """File a sandbox request; the policy may approve it at once."""
    workspace = Workspace.objects.select_for_update().get(pk=workspace.pk)
    latest = SandboxRequest.objects.for_workspace(workspace).first()
    if latest and latest.status == SandboxStatus.PENDING:
        raise ValidationError("A request for this workspace is already waiting for review.")
    if latest and latest.status == SandboxStatus.APPROVED:
        raise ValidationError("This workspace already has sandbox access.")
    if not product_areas:
        raise ValidationError({"product_areas": "Choose at least one product area."})
    sandbox_request = SandboxRequest.objects.create(
        workspace=workspace, requested_by=actor, use_case=use_case.strip(),
        expected_monthly_calls=expected_monthly_calls, product_areas=list(product_areas),
    )
    record(action=Action.SANDBOX_REQUESTED, actor=actor, workspace=workspace,
           target=sandbox_request, details={"expected_monthly_calls": expected_monthly_calls,
                                            "product_areas": list(product_areas)})
    if _policy_approves(actor, workspace):
        sandbox_request.decide(SandboxStatus.APPROVED, by=None)
        sandbox_request.auto_approved = True
        sandbox_request.save()
        _grant_sandbox(workspace, sandbox_request.decided_at)
        record(action=Action.SANDBOX_APPROVED, workspace=workspace,
               target=sandbox_request, details={"by": "policy"})
        _emit_decision(sandbox_request)
    return sandbox_request


class ReviewConflict(ValidationError):
    """The request was decided by someone else meanwhile."""


@transaction.atomic
def decide_sandbox_request(*, reviewer, sandbox_request_id: int, approve: bool,
                           reason: str = "") -> SandboxRequest:
    """A platform reviewer approves or denies (with a reason) a pending request."""
    sandbox_request = (SandboxRequest.objects.select_for_update()
                       .select_related("workspace__organization", "requested_by")
                       .get(pk=sandbox_request_id))
    if sandbox_request.status != SandboxStatus.PENDING:
        decided = sandbox_request.get_status_display().lower()
        raise ReviewConflict(f"This request was already {decided}.")
    workspace = sandbox_request.workspace
    check_reviewer(reviewer, workspace.organization_id)
    reason = reason.strip()
    if not approve and not reason:
        raise ValidationError({"reason": "Say why, so the customer knows what to change."})
    sandbox_request.decide(SandboxStatus.APPROVED if approve else SandboxStatus.DENIED,
                           by=reviewer)
    sandbox_request.reason = "" if approve else reason
    sandbox_request.save()
    if approve:
        _grant_sandbox(workspace, sandbox_request.decided_at)
    record(action=Action.SANDBOX_APPROVED if approve else Action.SANDBOX_DENIED,
           actor=reviewer, workspace=workspace, target=sandbox_request,
           details={} if approve else {"reason": reason})
    _emit_decision(sandbox_request)
    url = settings.SITE_URL + reverse("workspace_overview",
                                      args=[workspace.organization.slug, workspace.slug])
    send_templated("onboarding/email/sandbox_decided", [sandbox_request.requested_by.email], {
        "sandbox_request": sandbox_request, "workspace": workspace, "approved": approve,
        "url": url,
    })
    return sandbox_request


def _on_field(error: ValidationError, field: str) -> ValidationError:
    """A service's error on its own `name` field, moved to the first-run form's `field`."""
    if hasattr(error, "error_dict") and "name" in error.error_dict:
        return ValidationError({field: error.error_dict["name"]})
    return error


@transaction.atomic
def start_organization(*, actor, name: str, workspace_name: str = "",
                       sandbox: dict | None = None) -> tuple[Organization, Workspace | None]:
    """The first run in one transaction: the organization, its first workspace when named,
    and that workspace's sandbox request when given; any refusal writes none of them."""
    if sandbox is not None and not workspace_name.strip():
        raise ValidationError({"workspace_name": "Name the workspace the sandbox access "
                                                 "is for."})
    organization = create_organization(actor=actor, name=name)
    if not workspace_name.strip():
        return organization, None
    try:
        workspace = create_workspace(actor=actor, organization=organization,
                                     name=workspace_name)
    except ValidationError as error:
        raise _on_field(error, "workspace_name") from None
    if sandbox is not None:
        request_sandbox_access(actor=actor, workspace=workspace, **sandbox)
    return organization, workspace
