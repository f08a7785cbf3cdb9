"""Writes of the production review: start it, fill in and submit stages, decide them,
and unlock production when all four are approved."""

import uuid

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.mail import send_templated
from audit.models import Action
from audit.services import record
from onboarding.models import ProductionReview, ReviewStage, StageDecision, StageKind, StageStatus
from onboarding.review import catalog
from onboarding.review.evidence import checks_for
from onboarding.reviewers import check_reviewer
from onboarding.services import ReviewConflict
from outbox.services import emit
from workspaces.models import Environment, Membership, Workspace
from workspaces.roles import Role


def _overview_url(workspace: Workspace) -> str:
    return settings.SITE_URL + reverse("workspace_overview",
                                       args=[workspace.organization.slug, workspace.slug])


def _roles(actor, workspace: Workspace) -> list[str]:
    roles = (Membership.objects.for_organization(workspace.organization_id)
             .filter(user=actor).values_list("roles", flat=True).first())
    return list(roles or [])


def _emails(workspace: Workspace, roles) -> list[str]:
    return list(Membership.objects.for_organization(workspace.organization_id)
                .filter(roles__overlap=list(roles)).order_by("user__email")
                .values_list("user__email", flat=True))


def _locked_stage(actor, workspace: Workspace, kind: str) -> ReviewStage:
    """Lock the review, then the stage (the order decisions use too), after checking
    that the actor owns the stage."""
    if kind not in StageKind.values:
        raise ValidationError("No such stage.")
    if not catalog.owns(kind, _roles(actor, workspace)):
        labels = " or ".join(r.label for r in catalog.BY_KIND[kind].owner_roles)
        raise PermissionDenied(f"Only a {labels} can change the "
                               f"{catalog.BY_KIND[kind].title.lower()}.")
    review = ProductionReview.objects.select_for_update().filter(workspace=workspace).first()
    if review is None:
        raise ValidationError("Start the production review first.")
    return ReviewStage.objects.select_for_update().get(review=review, kind=kind)


@transaction.atomic
def start_production_review(*, actor, workspace: Workspace) -> ProductionReview:
    """Create the workspace's review with its four stages; starting twice returns the same."""
    workspace = Workspace.objects.select_for_update().select_related("organization").get(
        pk=workspace.pk)
    roles = _roles(actor, workspace)
    if not (Role.OWNER in roles or any(catalog.owns(k, roles) for k in StageKind.values)):
        raise PermissionDenied("Only an Owner or a stage owner can start the review.")
    if not workspace.is_open(Environment.SANDBOX):
        raise ValidationError("The production review starts once sandbox access is approved.")
    review, created = ProductionReview.objects.get_or_create(
        workspace=workspace, defaults={"started_by": actor})
    if created:
        ReviewStage.objects.bulk_create(ReviewStage(review=review, kind=kind)
                                        for kind in StageKind.values)
        record(action=Action.REVIEW_STARTED, actor=actor, workspace=workspace, target=review)
    return review


def _store_screenshot(stage: ReviewStage, screenshot) -> None:
    head = screenshot.read(16)
    screenshot.seek(0)
    try:
        content_type = catalog.screenshot_type(head, screenshot.size)
    except ValueError as error:
        raise ValidationError({"screenshot": str(error)}) from None
    # Never the client's file name: it is neither trusted nor unique.
    name = f"{uuid.uuid4().hex}.{catalog.SCREENSHOT_TYPES[content_type]}"
    stage.screenshot.save(name, screenshot, save=False)
    stage.screenshot_type = content_type


@transaction.atomic
def save_stage_answers(*, actor, workspace: Workspace, kind: str, answers: dict,
                       screenshot=None) -> ReviewStage:
    """Save a stage's draft answers (a field given empty is cleared). Submitted and
    approved stages are locked; after a change request only the named fields may change."""
    stage = _locked_stage(actor, workspace, kind)
    if stage.is_locked:
        raise ValidationError(f"The {stage.get_kind_display().lower()} is "
                              f"{stage.get_status_display().lower()}; its answers are locked.")
    if not catalog.BY_KIND[kind].fields:
        raise ValidationError("The portal computes this stage; there is nothing to fill in.")
    errors = catalog.answer_errors(kind, answers, complete=False)
    if errors:
        raise ValidationError(errors)
    merged = {key: value for key, value in {**stage.answers, **answers}.items()
              if value not in (None, "", {})}
    changed = catalog.changed_fields(stage.answers, merged, catalog.BY_KIND[kind].fields)
    if screenshot is not None:
        changed.append("screenshot")
    if stage.status == StageStatus.CHANGES_REQUESTED:
        fixed = [key for key in changed if key not in stage.requested_changes]
        if fixed:
            raise ValidationError({key: "The reviewer did not ask to change this."
                                   for key in fixed})
    if screenshot is not None:
        _store_screenshot(stage, screenshot)
    stage.answers = merged
    if stage.status == StageStatus.NOT_STARTED:
        stage.status = StageStatus.IN_PROGRESS
    stage.save()
    record(action=Action.REVIEW_STAGE_UPDATED, actor=actor, workspace=workspace, target=stage,
           details={"stage": kind, "fields": changed})
    return stage


@transaction.atomic
def submit_stage(*, actor, workspace: Workspace, kind: str) -> ReviewStage:
    """Submit a complete stage for review; its answers lock until a reviewer decides."""
    stage = _locked_stage(actor, workspace, kind)
    if stage.is_locked:
        raise ValidationError(f"The {stage.get_kind_display().lower()} is already "
                              f"{stage.get_status_display().lower()}.")
    errors = catalog.answer_errors(kind, stage.answers, complete=True)
    if "screenshot" in catalog.BY_KIND[kind].fields and not stage.screenshot:
        errors["screenshot"] = "Upload a screenshot of the consent screen."
    checks = checks_for(kind, workspace)
    errors.update({check.key: check.detail for check in checks if not check.passed})
    if errors:
        raise ValidationError(errors)
    stage.status = StageStatus.SUBMITTED
    stage.version += 1
    stage.submitted_by, stage.submitted_at = actor, timezone.now()
    stage.evidence = [check.as_dict() for check in checks]
    stage.save()
    record(action=Action.REVIEW_STAGE_SUBMITTED, actor=actor, workspace=workspace, target=stage,
           details={"stage": kind, "version": stage.version})
    return stage


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
    that was decided or resubmitted since is a conflict. The last approval unlocks
    production in the same transaction."""
    review_id = ReviewStage.objects.filter(pk=stage_id).values_list("review_id", flat=True)
    review = (ProductionReview.objects.select_for_update()
              .select_related("workspace__organization").get(pk__in=review_id))
    stage = ReviewStage.objects.select_for_update().get(pk=stage_id)
    workspace = review.workspace
    check_reviewer(reviewer, workspace.organization_id)
    if stage.status != StageStatus.SUBMITTED:
        raise ReviewConflict(f"This stage is {stage.get_status_display().lower()} now; "
                             "someone else decided it meanwhile.")
    if stage.version != version:
        raise ReviewConflict("The customer resubmitted this stage since you opened it; "
                             "reload to see the new answers.")
    changes = _check_changes(stage.kind, approve, changes or {})
    now, notes = timezone.now(), notes.strip()
    StageDecision.objects.create(
        stage=stage, version=stage.version, reviewer=reviewer, approved=approve, notes=notes,
        requested_changes=changes, answers=stage.answers, screenshot_name=stage.screenshot.name,
        evidence=stage.evidence, submitted_by_id=stage.submitted_by_id,
        submitted_at=stage.submitted_at, decided_at=now)
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
    owners = _emails(workspace, catalog.BY_KIND[stage.kind].owner_roles)
    send_templated("onboarding/email/review_decided", owners, {
        "stage": stage, "workspace": workspace, "approved": approve,
        "changes": [(catalog.FIELD_LABELS.get(key, key), reason)
                    for key, reason in changes.items()],
        "url": _overview_url(workspace)})
    if approve and not ReviewStage.objects.filter(review=review).exclude(
            status=StageStatus.APPROVED).exists():
        _unlock_production(review, reviewer, now)
    return stage


def _unlock_production(review: ProductionReview, reviewer, now) -> None:
    workspace = Workspace.objects.select_for_update().get(pk=review.workspace_id)
    if workspace.production_approved_at is not None:
        return
    workspace.production_approved_at = review.approved_at = now
    workspace.save(update_fields=["production_approved_at"])
    review.save(update_fields=["approved_at"])
    record(action=Action.PRODUCTION_APPROVED, actor=reviewer, workspace=workspace, target=review)
    # Sandbox endpoints: production ones cannot exist before this moment.
    emit(workspace=workspace, environment="sandbox", type="production.approved",
         data={"workspace": workspace.slug, "approved_at": now.isoformat()})
    leads = _emails(workspace, (Role.OWNER, Role.TECHNICAL_LEAD))
    send_templated("onboarding/email/production_approved", leads, {
        "workspace": review.workspace, "url": _overview_url(review.workspace)})
