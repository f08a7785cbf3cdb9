"""The platform's side: a reviewer decides a submitted stage; the last approval unlocks
production."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.mail import send_templated
from audit.models import Action
from audit.services import record
from onboarding.models import ProductionReview, ReviewStage, StageDecision, StageStatus
from onboarding.review import catalog
from onboarding.review.services.common import emails, overview_url, owner_emails, stage_url
from onboarding.reviewers import check_reviewer
from onboarding.services import ReviewConflict
from outbox.services import emit
from workspaces.models import Workspace
from workspaces.roles import Role


def _check_changes(kind: str, approve: bool, changes: dict) -> dict[str, str]:
    if approve:
        if changes:
            raise ValidationError("An approval cannot ask for changes.")
        return {}
    if not changes:
        raise ValidationError({"changes": "Name at least one field or item to change, "
                                          "with a reason."})
    stage = catalog.BY_KIND[kind]
    known = set(stage.fields) | set(stage.checks)
    unknown = [key for key in changes if key not in known]
    if unknown:
        raise ValidationError({"changes": f"Not part of this stage: {', '.join(unknown)}."})
    cleaned = {key: (reason or "").strip() for key, reason in changes.items()}
    missing = [key for key, reason in cleaned.items() if not reason]
    if missing:
        raise ValidationError({"changes": f"Give a reason for: {', '.join(missing)}."})
    return cleaned


@transaction.atomic
def decide_review_stage(*, reviewer, stage_id: int, version: int, approve: bool,
                        notes: str = "", changes: dict | None = None) -> ReviewStage:
    """A platform reviewer approves a submitted stage or requests changes (a reason per
    field or item). `version` is the submission the reviewer looked at: deciding a stage
    that was decided, withdrawn or resubmitted since is a conflict. The last approval
    unlocks production in the same transaction."""
    review_id = ReviewStage.objects.filter(pk=stage_id).values_list("review_id", flat=True)
    review = (ProductionReview.objects.select_for_update()
              .select_related("workspace__organization").get(pk__in=review_id))
    stage = ReviewStage.objects.select_for_update().get(pk=stage_id)
    workspace = review.workspace
    check_reviewer(reviewer, workspace.organization_id)
    if stage.status != StageStatus.SUBMITTED:
        why = ("someone else decided it meanwhile"
               if stage.status in (StageStatus.APPROVED, StageStatus.CHANGES_REQUESTED)
               else "the portal withdrew it because a check stopped passing")
        raise ReviewConflict(f"This stage is {stage.get_status_display().lower()} now; {why}.")
    if stage.version != version:
        raise ReviewConflict("The customer resubmitted this stage since you opened it; "
                             "reload to see the new answers.")
    changes = _check_changes(stage.kind, approve, changes or {})
    now, notes = timezone.now(), notes.strip()
    StageDecision.objects.create(
        stage=stage, version=stage.version, reviewer=reviewer, approved=approve, notes=notes,
        requested_changes=changes, answers=stage.answers, screenshot_name=stage.screenshot.name,
        attachment_name=stage.attachment.name, evidence=stage.evidence,
        submitted_by_id=stage.submitted_by_id, submitted_at=stage.submitted_at,
        decided_at=now)
    stage.decide(StageStatus.APPROVED if approve else StageStatus.CHANGES_REQUESTED,
                 by=reviewer, at=now)
    stage.notes, stage.requested_changes = notes, changes
    stage.save()
    record(action=Action.REVIEW_STAGE_APPROVED if approve else Action.REVIEW_CHANGES_REQUESTED,
           actor=reviewer, workspace=workspace, target=stage,
           details={"stage": stage.kind, "version": stage.version, "notes": notes,
                    "changes": changes})
    emit(workspace=workspace, environment="sandbox", type="review.stage_decided",
         data={"workspace": workspace.slug, "stage": stage.kind,
               "decision": "approved" if approve else "changes_requested", "notes": notes,
               "changes": changes, "decided_at": now.isoformat()})
    send_templated("onboarding/email/review_decided", owner_emails(workspace, stage.kind), {
        "stage": stage, "workspace": workspace, "approved": approve,
        "changes": [(catalog.FIELD_LABELS.get(key) or catalog.CHECK_LABELS.get(key, key),
                     reason) for key, reason in changes.items()],
        "by_portal": catalog.BY_KIND[stage.kind].by_portal,
        "url": stage_url(workspace, stage.kind)})
    if approve and not ReviewStage.objects.filter(review=review).exclude(
            status=StageStatus.APPROVED).exists():
        _unlock_production(review, reviewer, now)
    return stage


def _unlock_production(review: ProductionReview, reviewer, now) -> None:
    workspace = Workspace.objects.select_for_update().get(pk=review.workspace_id)
    if workspace.production_approved_at is not None:
        return  # a stage sent back to review and approved again: production stayed on
    workspace.production_approved_at = review.approved_at = now
    workspace.save(update_fields=["production_approved_at"])
    review.save(update_fields=["approved_at"])
    record(action=Action.PRODUCTION_APPROVED, actor=reviewer, workspace=workspace, target=review)
    # Sandbox endpoints: production ones cannot exist before this moment.
    emit(workspace=workspace, environment="sandbox", type="production.approved",
         data={"workspace": workspace.slug, "approved_at": now.isoformat()})
    leads = emails(workspace, (Role.OWNER, Role.TECHNICAL_LEAD))
    send_templated("onboarding/email/production_approved", leads, {
        "workspace": review.workspace, "url": overview_url(review.workspace)})
