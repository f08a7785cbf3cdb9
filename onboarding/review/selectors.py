"""Reads of the production review."""

import os

from django.db.models import Prefetch

from onboarding.models import ProductionReview, ReviewStage, StageDecision
from onboarding.review import catalog


def last_decision(stage: ReviewStage) -> StageDecision | None:
    return StageDecision.objects.filter(stage=stage).order_by("-decided_at", "-id").first()


def _file_changes(stage: ReviewStage, previous: StageDecision) -> list[str]:
    spec = catalog.BY_KIND[stage.kind]
    return [name for name, before in (("screenshot", previous.screenshot_name),
                                      ("attachment", previous.attachment_name))
            if name in spec.fields and before != getattr(stage, name).name]


def changes_since_last_decision(stage: ReviewStage) -> list[str]:
    """Fields and checks that differ from what the previous decision saw; empty for a
    first submission."""
    previous = last_decision(stage)
    if previous is None:
        return []
    return [key for key, _, _, _ in _diff(stage, previous)]


# Checks whose detail is what the customer entered elsewhere (the billing profile), so a
# change to it is a change to review; other details are counts and times that move anyway.
CONTENT_CHECKS = frozenset({"billing_profile", "billing_contact"})


def _diff(stage: ReviewStage, previous: StageDecision):
    spec = catalog.BY_KIND[stage.kind]
    keys = [f for f in spec.fields if f not in catalog.FILE_FIELDS]
    before_rows = {key: shown for key, _, shown in answer_rows(stage.kind, previous.answers)}
    after_rows = {key: shown for key, _, shown in answer_rows(stage.kind, stage.answers)}
    changed = dict.fromkeys(catalog.base_field(key) for key in
                            catalog.changed_fields(previous.answers, stage.answers, keys))
    rows = [(key, catalog.item_label(key), before_rows[key], after_rows[key])
            for key in changed]
    rows += [(name, catalog.item_label(name), ["the file reviewed last time"],
              ["a new file"] if getattr(stage, name) else ["removed"])
             for name in _file_changes(stage, previous)]
    before = {check["key"]: check for check in previous.evidence}
    for check in stage.evidence:
        old = before.get(check["key"], {})
        if old.get("passed") != check["passed"] or (
                check["key"] in CONTENT_CHECKS and old.get("detail") != check["detail"]):
            rows.append((check["key"], check["label"],
                         [_check_text(old) if old else "—"], [_check_text(check)]))
    return rows


def _check_text(check: dict) -> str:
    return f"{'Passes' if check['passed'] else 'Fails'}: {check['detail']}"


def stage_diff(stage: ReviewStage, previous: StageDecision | None = None) -> list[dict]:
    """Every field and check that changed since the last decision (`previous`, loaded
    when not given), before → after, as the reviewer and the customer read them; empty
    for a first submission."""
    previous = previous or last_decision(stage)
    if previous is None:
        return []
    return [{"key": key, "label": label, "before": before, "after": after}
            for key, label, before, after in _diff(stage, previous)]


def _person(user) -> dict | None:
    return {"name": user.display_name, "email": user.email} if user else None


def dossier(workspace, roles) -> dict:
    """The whole review as data (times as datetimes, for DjangoJSONEncoder): every
    stage's answers, evidence, decisions, reviewers and times for a reader with these
    roles in the workspace, and only the title, status and owners of a stage they may not
    read (catalog.may_read); no stages before the review starts. Three queries whatever
    its history."""
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
        "stages": [_stage(by_kind[spec.kind], spec) if catalog.may_read(spec.kind, roles)
                   else _summary(by_kind[spec.kind], spec)
                   for spec in catalog.STAGES if spec.kind in by_kind],
    }


def _summary(stage: ReviewStage, spec: catalog.Stage, *, readable: bool = False) -> dict:
    """What anyone who may open the workspace reads of a stage: nothing of its contents."""
    return {
        "kind": stage.kind, "title": spec.title, "status": stage.status,
        "status_label": stage.get_status_display(),
        "owner_roles": [role.label for role in spec.owner_roles],
        "filled_in_by": spec.owner_label, "readable": readable,
        "read_by": [role.label for role in spec.readers],
    }


def _stage(stage: ReviewStage, spec: catalog.Stage) -> dict:
    return {
        **_summary(stage, spec, readable=True),
        "version": stage.version, "answers": stage.answers,
        "screenshot": ({"name": os.path.basename(stage.screenshot.name),
                        "content_type": stage.screenshot_type}
                       if stage.screenshot else None),
        "attachment": ({"name": stage.attachment_label,
                        "content_type": stage.attachment_type}
                       if stage.attachment else None),
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
        if key in catalog.FILE_FIELDS or key in catalog.NOTES:
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
            why = answers.get(f"{key}_why")
            shown = [catalog.ANSWERS.get(value, "—") + (f": {why}" if why else "")]
        else:
            shown = [value or "—"]
        rows.append((key, catalog.FIELD_LABELS[key], shown))
    return rows

