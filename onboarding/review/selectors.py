"""Reads of the production review."""

import os

from django.db.models import Prefetch

from onboarding.models import ProductionReview, ReviewStage, StageDecision
from onboarding.review import catalog


def changes_since_last_decision(stage: ReviewStage) -> list[str]:
    """Fields and checks that differ from what the previous decision saw; empty for a
    first submission."""
    previous = StageDecision.objects.filter(stage=stage).order_by("-decided_at", "-id").first()
    if previous is None:
        return []
    spec = catalog.BY_KIND[stage.kind]
    changed = catalog.changed_fields(previous.answers, stage.answers,
                                     [f for f in spec.fields if f != "screenshot"])
    if "screenshot" in spec.fields and previous.screenshot_name != stage.screenshot.name:
        changed.append("screenshot")
    # Pass or fail only: counts and times move with every submission.
    before = {check["key"]: check["passed"] for check in previous.evidence}
    changed += [check["key"] for check in stage.evidence
                if before.get(check["key"]) != check["passed"]]
    return changed


def _person(user) -> dict | None:
    return {"name": user.display_name, "email": user.email} if user else None


def dossier(workspace) -> dict:
    """The whole review as data (times as datetimes, for DjangoJSONEncoder): every
    stage's answers, evidence, decisions, reviewers and times; no stages before the
    review starts. Three queries whatever its history."""
    review = (ProductionReview.objects.select_related("started_by")
              .filter(workspace=workspace).first())
    head = {"organization": {"name": workspace.organization.name,
                             "slug": workspace.organization.slug},
            "workspace": {"name": workspace.name, "slug": workspace.slug}}
    if review is None:
        return {**head, "started_at": None, "started_by": None,
                "production_approved_at": None, "stages": []}
    decisions = Prefetch("decisions", queryset=StageDecision.objects.select_related(
        "reviewer", "submitted_by").order_by("decided_at", "id"))
    stages = (ReviewStage.objects.filter(review=review).select_related(
        "submitted_by", "decided_by").prefetch_related(decisions))
    by_kind = {stage.kind: stage for stage in stages}
    return {
        **head,
        "started_at": review.started_at, "started_by": _person(review.started_by),
        "production_approved_at": review.approved_at,
        "stages": [_stage(by_kind[spec.kind], spec) for spec in catalog.STAGES
                   if spec.kind in by_kind],
    }


def _stage(stage: ReviewStage, spec: catalog.Stage) -> dict:
    return {
        "kind": stage.kind, "title": spec.title, "status": stage.status,
        "status_label": stage.get_status_display(),
        "owner_roles": [role.label for role in spec.owner_roles],
        "version": stage.version, "answers": stage.answers,
        "screenshot": ({"name": os.path.basename(stage.screenshot.name),
                        "content_type": stage.screenshot_type}
                       if stage.screenshot else None),
        "evidence": stage.evidence,
        "submitted_by": _person(stage.submitted_by), "submitted_at": stage.submitted_at,
        "decided_by": _person(stage.decided_by), "decided_at": stage.decided_at,
        "notes": stage.notes, "requested_changes": stage.requested_changes,
        "decisions": [{
            "version": d.version, "approved": d.approved, "reviewer": _person(d.reviewer),
            "notes": d.notes, "requested_changes": d.requested_changes,
            "submitted_by": _person(d.submitted_by), "submitted_at": d.submitted_at,
            "decided_at": d.decided_at, "answers": d.answers, "evidence": d.evidence,
        } for d in stage.decisions.all()],
    }


def answer_rows(kind: str, answers: dict) -> list[tuple[str, str, list[str]]]:
    """(key, label, values as sentences) of a stage's answers, in the form's order."""
    rows = []
    for key in catalog.BY_KIND[kind].fields:
        if key == "screenshot":
            continue
        value = answers.get(key)
        if key == "scopes":
            shown = [f"{scope}: {purpose}" for scope, purpose in (value or {}).items()]
        elif key == "plan" and value in catalog.PLAN_KEYS:
            plan = catalog.PLAN_KEYS[value]
            shown = [f"{plan.name} ({plan.price}, {plan.included_calls:,} calls)"]
        elif key == "consent_duration":
            shown = [catalog.CONSENT_DURATIONS.get(value, "—")]
        elif key in catalog.ANSWER_KEYS:
            shown = [catalog.ANSWERS.get(value, "—")]
        else:
            shown = [value or "—"]
        rows.append((key, catalog.FIELD_LABELS[key], shown))
    return rows
