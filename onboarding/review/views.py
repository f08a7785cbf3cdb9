"""The customer's pages of the production review: the four stages, each stage's form or
live checklist, and the consent screenshot (never a public URL)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from onboarding.lanes import review_lines
from onboarding.models import ReviewStage, StageKind, StageStatus
from onboarding.review import catalog, services
from onboarding.review.evidence import checks_for
from onboarding.review.forms import FORMS
from onboarding.review.selectors import answer_rows, dossier, stage_diff
from onboarding.selectors import workspace_facts
from workspaces.roles import Role
from workspaces.scoping import render_scoped, workspace_view


def _may_start(roles) -> bool:
    return Role.OWNER in roles or any(catalog.owns(k, roles) for k in StageKind.values)


@workspace_view()
def review_overview(request):
    workspace, roles = request.workspace, request.membership.roles_here
    stages = {stage.kind: stage for stage in ReviewStage.objects.for_workspace(workspace)
              .select_related("submitted_by", "decided_by")}
    lines = review_lines(workspace_facts(request, workspace), roles)
    rows = [(line, stages.get(line.kind),
             reverse("review_stage", args=[request.organization.slug, workspace.slug,
                                           line.kind])) for line in lines]
    return render_scoped(request, "onboarding/review/overview.html", {
        "rows": rows, "started": bool(stages), "may_start": _may_start(roles),
        "specs": catalog.STAGES,
        "approved_at": workspace.production_approved_at,
    })


@require_POST
@workspace_view()
def review_start(request):
    try:
        services.start_production_review(actor=request.user, workspace=request.workspace)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "The production review has started. Each stage's owner "
                                  "fills it in and submits it.")
    return redirect("review_overview", request.organization.slug, request.workspace.slug)


def _problems(error: ValidationError, checks) -> list[tuple[str, str]]:
    labels = {check.key: check.label for check in checks}
    return [(labels.get(key) or catalog.item_label(key), message)
            for key, msgs in getattr(error, "message_dict", {"": error.messages}).items()
            for message in msgs]


def _editable(current, mine: bool) -> set | None:
    """None: every field; a set: only these (empty: read-only)."""
    if current is None or not mine or current.is_locked:
        return set()
    if current.status == StageStatus.CHANGES_REQUESTED:
        return set(current.requested_changes)
    return None


@workspace_view()
def review_stage(request, stage: str):
    if stage not in StageKind.values:
        raise Http404("No such stage")
    workspace, roles = request.workspace, request.membership.roles_here
    current = _current(workspace, stage)
    mine = catalog.owns(stage, roles)
    action = request.POST.get("action") if request.method == "POST" else None
    form = _stage_form(request, stage, current, mine, bound=action in DONE)
    problems = []
    # Both buttons save what is on the page first; "Submit" then submits it. On any
    # error the bound form re-shows everything typed, and what saved stays saved.
    if form is not None and form.is_bound and form.is_valid():
        try:
            services.save_stage(actor=request.user, workspace=workspace, kind=stage,
                                answers=form.answers(), files=form.uploads(),
                                submit=action == "submit")
        except services.SubmissionRefused as refused:
            problems = _problems(refused, checks_for(stage, workspace))
            form.add_service_errors(refused)
            current = _current(workspace, stage)
        except ValidationError as error:
            form.add_service_errors(error)
        else:
            title = catalog.BY_KIND[stage].title
            messages.success(request, DONE[action].format(title=title))
            target = ["review_stage", stage] if action == "save" else ["review_overview"]
            return redirect(target[0], request.organization.slug, workspace.slug, *target[1:])
    return render_scoped(request, "onboarding/review/stage.html",
                         _stage_context(workspace, stage, current, form, mine, problems)
                         if catalog.may_read(stage, roles) else _summary_context(stage, current),
                         status=400 if request.method == "POST" else 200)


DONE = {"save": "Saved. Submit the stage when it is complete.",
        "submit": "{title} submitted. A platform reviewer decides; its owners get an email."}


def _stage_form(request, stage: str, current, mine: bool, *, bound: bool):
    form_class = FORMS.get(stage)
    if form_class is None:
        return None
    data = (request.POST, request.FILES) if bound else (None, None)
    return form_class(*data, answers=current.answers if current else {},
                      editable=_editable(current, mine))


def _stage_context(workspace, stage: str, current, form, mine: bool, problems) -> dict:
    spec, editable = catalog.BY_KIND[stage], _editable(current, mine)
    decisions = _decisions(current)
    return {
        "spec": spec, "review_stage": current, "form": form, "mine": mine, "readable": True,
        "editable": editable is None or bool(editable),
        "checks": checks_for(stage, workspace) if current else [],
        "problems": problems,
        "requested": [(catalog.item_label(key), reason)
                      for key, reason in (current.requested_changes.items() if current else [])],
        "owner_roles": spec.owner_label,
        "diff": stage_diff(current, decisions[0]["decision"]) if decisions else [],
        "decisions": decisions,
        "can_submit": current is not None and mine and not current.is_locked,
    }


def _summary_context(stage: str, current) -> dict:
    """A stage's page for a member who may not read its contents: title, status, owners."""
    spec = catalog.BY_KIND[stage]
    return {"spec": spec, "review_stage": current, "readable": False,
            "owner_roles": spec.owner_label, "readers": spec.readers_label}


def _current(workspace, stage: str) -> ReviewStage | None:
    return (ReviewStage.objects.for_workspace(workspace).filter(kind=stage)
            .select_related("submitted_by", "decided_by").first())


def _decisions(current) -> list[dict]:
    if current is None or not current.version:
        return []
    return [{"decision": d, "changes": [(catalog.item_label(k), reason)
                                        for k, reason in d.requested_changes.items()]}
            for d in current.decisions.order_by("-decided_at", "-id")]


def _readable_stage(request, kind: str):
    """The workspace's stage of this kind, if the member may read its contents: a file of
    a stage they may not read is not found, like one of another workspace."""
    if not catalog.may_read(kind, request.membership.roles_here):
        raise Http404("No such file")
    return ReviewStage.objects.for_workspace(request.workspace).filter(kind=kind)


@workspace_view()
def review_screenshot(request):
    current = (_readable_stage(request, StageKind.CONSENT)
               .only("screenshot", "screenshot_type").first())
    if current is None or not current.screenshot:
        raise Http404("No screenshot")
    return screenshot_response(current)


@workspace_view()
def review_attachment(request):
    current = (_readable_stage(request, StageKind.AUDIT)
               .only("attachment", "attachment_type", "attachment_label").first())
    if current is None or not current.attachment:
        raise Http404("No evidence file")
    return screenshot_response(current, "attachment")


def screenshot_response(stage: ReviewStage, field: str = "screenshot") -> FileResponse:
    """A stored file of the stage (the screenshot or the evidence file) with headers that
    keep it private, uncached and never run as a page."""
    response = FileResponse(getattr(stage, field).open("rb"),
                            content_type=getattr(stage, f"{field}_type"))
    response["Content-Disposition"] = "inline" if field == "screenshot" else "attachment"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response


@workspace_view()
def review_dossier(request):
    data = dossier(request.workspace, request.membership.roles_here)
    label = catalog.item_label
    stages = [{**stage, "rows": answer_rows(stage["kind"], stage["answers"]),
               "decisions": [{**d, "changes": [(label(key), reason) for key, reason
                                               in d["requested_changes"].items()]}
                             for d in stage["decisions"]]} if stage["readable"] else stage
              for stage in data["stages"]]
    return render_scoped(request, "onboarding/review/dossier.html", {"dossier": data,
                                                              "stages": stages})


@workspace_view()
def review_dossier_json(request):
    data = dossier(request.workspace, request.membership.roles_here)
    response = JsonResponse(data, json_dumps_params={"indent": 2})
    response["Content-Disposition"] = (
        f'attachment; filename="production-review-{request.organization.slug}-'
        f'{request.workspace.slug}.json"')
    return response
