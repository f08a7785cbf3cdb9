"""Changes the portal makes to the review from facts that changed elsewhere.

The integration verification is the portal's to submit: `sync_portal_stages` submits it
when every check passes and withdraws a portal submission whose checks stop passing
before a decision. The checks read usage rollups, webhook acknowledgements and keys,
which lower apps write without knowing about the review (they may not import it), so
the rule is applied by a periodic task on the `default` queue
(`onboarding.tasks.sync_portal_stages`, every minute) and when the review starts.

The billing profile belongs to the organization, but while a billing stage waits for a
reviewer it is part of what they review: `change_billing_profile` refuses a change
then, and sends an approved billing stage back to review when the profile changes.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.models import Action
from audit.services import record
from onboarding.models import ProductionReview, ReviewStage, StageDecision, StageKind, StageStatus
from onboarding.review.evidence import billing_checks, integration_checks
from onboarding.review.services.common import tell_reviewers
from onboarding.review.services.stages import mark_submitted
from workspaces.models import BillingProfile, Organization, Workspace
from workspaces.services.billing import update_billing_profile

PROFILE_FIELDS = ("legal_name", "address_line1", "address_line2", "city", "postal_code",
                  "country", "tax_id", "billing_email")


def _differs_from_last_decision(stage: ReviewStage, checks) -> bool:
    """After a change request, only new evidence is worth a reviewer's time again."""
    decision = StageDecision.objects.filter(stage=stage).order_by("-decided_at", "-id").first()
    if decision is None:
        return True
    before = {check["key"]: check["detail"] for check in decision.evidence}
    return any(before.get(check.key) != check.detail for check in checks
               if check.key in stage.requested_changes) or not stage.requested_changes


@transaction.atomic
def sync_portal_stages(*, workspace: Workspace) -> str | None:
    """Submit the workspace's integration verification when every check passes, or
    withdraw the portal's submission when one stops passing before a decision. Returns
    "submitted", "withdrawn" or None; safe to run twice."""
    review = ProductionReview.objects.select_for_update().filter(workspace=workspace).first()
    if review is None:
        return None
    stage = ReviewStage.objects.select_for_update().get(review=review,
                                                        kind=StageKind.INTEGRATION)
    if stage.status == StageStatus.APPROVED:
        return None
    checks = integration_checks(workspace)
    passing = not any(check.blocks for check in checks)
    if stage.status == StageStatus.SUBMITTED:
        if passing or stage.submitted_by_id is not None:
            return None
        stage.status = StageStatus.IN_PROGRESS
        stage.evidence = [check.as_dict() for check in checks]
        stage.save()
        failing = [check.key for check in checks if check.blocks]
        record(action=Action.REVIEW_STAGE_WITHDRAWN, workspace=workspace, target=stage,
               details={"stage": stage.kind, "version": stage.version, "failing": failing})
        return "withdrawn"
    if not passing:
        return None
    if stage.status == StageStatus.CHANGES_REQUESTED and \
            not _differs_from_last_decision(stage, checks):
        return None
    mark_submitted(stage, workspace, actor=None, checks=checks)
    return "submitted"


def _snapshot(profile: BillingProfile | None) -> dict:
    return {f: getattr(profile, f) if profile else "" for f in PROFILE_FIELDS}


@transaction.atomic
def change_billing_profile(*, actor, organization: Organization, data: dict) -> BillingProfile:
    """Save the organization's billing profile, unless a billing stage of one of its
    workspaces waits for a reviewer; an approved billing stage goes back to review with
    the new profile as evidence (production stays on)."""
    # The review, then the stage: the order the other review services lock in.
    list(ProductionReview.objects.select_for_update()
         .filter(workspace__organization=organization).order_by("pk"))
    stages = list(ReviewStage.objects.select_for_update()
                  .filter(review__workspace__organization=organization,
                          kind=StageKind.BILLING)
                  .select_related("review__workspace__organization").order_by("pk"))
    waiting = [s.review.workspace.name for s in stages if s.status == StageStatus.SUBMITTED]
    if waiting:
        raise ValidationError(
            f"The billing setup of {', '.join(waiting)} is waiting for a platform reviewer, "
            "who reviews this profile; it cannot change until they decide.")
    before = _snapshot(BillingProfile.objects.filter(organization=organization).first())
    profile = update_billing_profile(actor=actor, organization=organization, data=data)
    if _snapshot(profile) == before:
        return profile
    for stage in stages:
        if stage.status != StageStatus.APPROVED:
            continue
        workspace = stage.review.workspace
        stage.status = StageStatus.SUBMITTED
        stage.version += 1
        stage.submitted_by, stage.submitted_at = actor, timezone.now()
        stage.evidence = [check.as_dict() for check in billing_checks(workspace)]
        stage.save()
        record(action=Action.REVIEW_STAGE_REOPENED, actor=actor, workspace=workspace,
               target=stage, details={"stage": stage.kind, "version": stage.version,
                                      "reason": "billing profile changed"})
        tell_reviewers(stage, workspace, by=actor.display_name, changed=["billing_profile"])
    return profile
