"""The customer's side: start the review, save a stage's answers and files, submit it."""

import os
import uuid

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from audit.models import Action
from audit.services import record
from onboarding.models import ProductionReview, ReviewStage, StageKind, StageStatus
from onboarding.review import catalog
from onboarding.review.evidence import checks_for
from onboarding.review.selectors import changes_since_last_decision
from onboarding.review.services.common import lock_stage, roles_of, tell_reviewers
from workspaces.models import Environment, Workspace
from workspaces.roles import Role

# How each file field is checked and where it is stored.
FILES = {"screenshot": (catalog.screenshot_type, catalog.SCREENSHOT_TYPES),
         "attachment": (catalog.attachment_type, catalog.ATTACHMENT_TYPES)}


def _owned_stage(actor, workspace: Workspace, kind: str) -> ReviewStage:
    """Check that the actor may fill in the stage, then lock it."""
    if kind not in StageKind.values:
        raise ValidationError("No such stage.")
    spec = catalog.BY_KIND[kind]
    if spec.by_portal:
        raise ValidationError("Nobody fills in this stage: the portal submits it from "
                              "sandbox activity when every check passes.")
    if not catalog.owns(kind, roles_of(actor, workspace)):
        raise PermissionDenied(f"Only a {spec.owner_label} can change the "
                               f"{spec.title.lower()}.")
    return lock_stage(workspace, kind)


@transaction.atomic
def start_production_review(*, actor, workspace: Workspace) -> ProductionReview:
    """Create the workspace's review with its four stages; starting twice returns the same.
    The portal submits the integration verification at once if its checks already pass."""
    from onboarding.review.services.portal import sync_portal_stages

    workspace = Workspace.objects.select_for_update().select_related("organization").get(
        pk=workspace.pk)
    roles = roles_of(actor, workspace)
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
        sync_portal_stages(workspace=workspace)
    return review


def _store_file(stage: ReviewStage, field: str, upload) -> None:
    sniff, extensions = FILES[field]
    head = upload.read(16)
    upload.seek(0)
    try:
        content_type = sniff(head, upload.size)
    except ValueError as error:
        raise ValidationError({field: str(error)}) from None
    # Never the client's file name on disk: it is neither trusted nor unique.
    name = f"{uuid.uuid4().hex}.{extensions[content_type]}"
    getattr(stage, field).save(name, upload, save=False)
    setattr(stage, f"{field}_type", content_type)
    if field == "attachment":
        stage.attachment_label = os.path.basename(upload.name or "")[:100] or name


@transaction.atomic
def save_stage_answers(*, actor, workspace: Workspace, kind: str, answers: dict,
                       screenshot=None, attachment=None) -> ReviewStage:
    """Save a stage's draft answers and files (a field given empty is cleared). Submitted
    and approved stages are locked; after a change request only the named fields may
    change."""
    stage = _owned_stage(actor, workspace, kind)
    if stage.is_locked:
        raise ValidationError(f"The {stage.get_kind_display().lower()} is "
                              f"{stage.get_status_display().lower()}; its answers are locked.")
    spec = catalog.BY_KIND[kind]
    uploads = {name: upload for name, upload in
               (("screenshot", screenshot), ("attachment", attachment))
               if upload is not None}
    errors = catalog.answer_errors(kind, answers, complete=False)
    errors.update({name: "Not a field of this stage." for name in uploads
                   if name not in spec.fields})
    if errors:
        raise ValidationError(errors)
    merged = {key: value for key, value in {**stage.answers, **answers}.items()
              if value not in (None, "", {})}
    changed = catalog.changed_fields(stage.answers, merged, spec.fields) + list(uploads)
    if stage.status == StageStatus.CHANGES_REQUESTED:
        fixed = [key for key in changed
                 if catalog.base_field(key) not in stage.requested_changes]
        if fixed:
            raise ValidationError({key: "The reviewer did not ask to change this."
                                   for key in fixed})
    for name, upload in uploads.items():
        _store_file(stage, name, upload)
    stage.answers = merged
    if stage.status == StageStatus.NOT_STARTED:
        stage.status = StageStatus.IN_PROGRESS
    stage.save()
    record(action=Action.REVIEW_STAGE_UPDATED, actor=actor, workspace=workspace, target=stage,
           details={"stage": kind, "fields": changed})
    return stage


def mark_submitted(stage: ReviewStage, workspace: Workspace, *, actor, checks) -> None:
    """Stamp a submission (by a person, or by the portal when `actor` is None), record it
    and tell the reviewers; the caller holds the lock."""
    stage.status = StageStatus.SUBMITTED
    stage.version += 1
    stage.submitted_by, stage.submitted_at = actor, timezone.now()
    stage.evidence = [check.as_dict() for check in checks]
    stage.save()
    record(action=Action.REVIEW_STAGE_SUBMITTED, actor=actor, workspace=workspace, target=stage,
           details={"stage": stage.kind, "version": stage.version,
                    "by": "person" if actor else "portal"})
    tell_reviewers(stage, workspace, changed=changes_since_last_decision(stage),
                   by=actor.display_name if actor else "the portal, from sandbox activity")


@transaction.atomic
def submit_stage(*, actor, workspace: Workspace, kind: str) -> ReviewStage:
    """Submit a complete stage for review; its answers lock until a reviewer decides."""
    stage = _owned_stage(actor, workspace, kind)
    if stage.is_locked:
        raise ValidationError(f"The {stage.get_kind_display().lower()} is already "
                              f"{stage.get_status_display().lower()}.")
    errors = catalog.answer_errors(kind, stage.answers, complete=True, files=stage.files)
    checks = checks_for(kind, workspace)
    errors.update({check.key: check.detail for check in checks if check.blocks})
    if errors:
        raise ValidationError(errors)
    mark_submitted(stage, workspace, actor=actor, checks=checks)
    return stage



class SubmissionRefused(ValidationError):
    """The answers were saved, but the stage could not be submitted."""


def save_stage(*, actor, workspace: Workspace, kind: str, answers: dict, files: dict,
               submit: bool) -> ReviewStage:
    """What a stage page's two buttons do: save what is on the page and, with `submit`,
    submit it. Each step is its own transaction, so a refused submission keeps what was
    saved and raises SubmissionRefused."""
    stage = save_stage_answers(actor=actor, workspace=workspace, kind=kind, answers=answers,
                               **files)
    if not submit:
        return stage
    try:
        return submit_stage(actor=actor, workspace=workspace, kind=kind)
    except ValidationError as error:
        raise SubmissionRefused(getattr(error, "message_dict", error.messages)) from error
