from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from accounts.access import access_state
from audit.models import Action, AuditEvent
from audit.selectors import Filters, export_csv, export_jsonl, filtered, sentence
from audit.services import record
from onboarding import services
from onboarding.forms import AuditFilterForm, FirstRunForm, SandboxRequestForm
from onboarding.lanes import checklist, progress, review_lines
from onboarding.models import SandboxRequest, SandboxStatus
from onboarding.review.services import change_billing_profile
from onboarding.selectors import operator_path_for, workspace_facts
from portal import keyset
from workspaces.forms import BillingProfileForm, JoinRequestForm
from workspaces.models import BillingProfile
from workspaces.scoping import (
    org_view,
    render_scoped,
    require,
    require_somewhere,
    workspace_view,
    workspaces_where,
)
from workspaces.selectors import access_facts_for

PAGE_SIZE = 50


def access(request):
    """The first page after sign-in: the access state and the whole operator path."""
    facts = access_facts_for(request)
    join_form = JoinRequestForm(organizations=facts.joinable) if facts.joinable else None
    return render(request, "workspaces/access.html", {
        "state": access_state(facts), "facts": facts, "join_form": join_form,
        "path": operator_path_for(request),
    })


def first_run(request):
    """A person with no organization yet creates it, its first workspace and, if they
    ship the integration, the sandbox request: all or nothing."""
    form = FirstRunForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organization, workspace = services.start_organization(
                actor=request.user, name=form.cleaned_data["name"],
                workspace_name=form.cleaned_data["workspace_name"], sandbox=form.sandbox())
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"{organization} is created and you are its Owner.")
            if workspace is None:
                return redirect("workspace_create", organization.slug)
            return redirect("workspace_overview", organization.slug, workspace.slug)
    return render(request, "onboarding/first_run.html", {"form": form},
                  status=400 if form.errors else 200)


@workspace_view()
def workspace_overview(request):
    facts = workspace_facts(request, request.workspace)
    items = checklist(facts, request.membership.roles_here)
    done, total = progress(items)
    return render_scoped(request, "onboarding/workspace_overview.html", {
        "facts": facts, "done": done, "total": total,
        "items": [(item, reverse(item.url_name, args=item.url_args)) for item in items],
        "review_lines": review_lines(facts, request.membership.roles_here),
    })


@workspace_view()
def sandbox_request(request):
    history = list(SandboxRequest.objects.for_workspace(request.workspace)
                   .select_related("requested_by", "decided_by")[:20])
    latest = history[0] if history else None
    can_request = latest is None or latest.status == SandboxStatus.DENIED
    initial = {}
    if latest and latest.status == SandboxStatus.DENIED:
        initial = {"use_case": latest.use_case, "product_areas": latest.product_areas,
                   "expected_monthly_calls": latest.expected_monthly_calls}
    form = SandboxRequestForm(request.POST or None, initial=initial)
    if request.method == "POST":
        require(request, "sandbox.manage")
        if form.is_valid():
            try:
                created = services.request_sandbox_access(
                    actor=request.user, workspace=request.workspace, **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                if created.status == SandboxStatus.APPROVED:
                    messages.success(request, "Sandbox access is approved. Next: issue your "
                                              "first sandbox key.")
                else:
                    messages.info(request, "Request sent. A platform reviewer will decide; "
                                           "you will get an email.")
                return redirect("workspace_overview", request.organization.slug,
                                request.workspace.slug)
    return render_scoped(request, "onboarding/sandbox_request.html", {
        "form": form, "latest": latest, "history": history, "can_request": can_request,
        "may_request": request.membership.can("sandbox.manage"),
    }, status=400 if form.errors else 200)


def _filters(request):
    form = AuditFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    return form, Filters(**{k: v for k, v in data.items() if v})


def _timeline(request, events, template, extra):
    form, filters = _filters(request)
    events = filtered(events.select_related("actor"), filters)
    # Keyset, not page numbers: counting a large organization's events grows with them.
    page = keyset.page(events, field="occurred_at", size=PAGE_SIZE,
                       after=keyset.decode(request.GET.get("before", "")))
    rows = [(event, sentence(event)) for event in page.items]
    query = request.GET.copy()
    query.pop("before", None)
    older = query.copy()
    older["before"] = page.next_cursor
    return render_scoped(request, template, {
        "form": form, "page": page, "rows": rows, "query": query.urlencode(),
        "older_query": older.urlencode() if page.next_cursor else "", **extra,
    }, status=400 if form.errors else 200)


@workspace_view("audit.read")
def workspace_history(request):
    events = AuditEvent.objects.for_workspace(request.workspace)
    return _timeline(request, events, "onboarding/history.html", {})


def _readable(request, capability: str):
    """The organization's events of the workspaces where the reader holds the capability;
    events that name no workspace only for those who hold it organization-wide."""
    where = require_somewhere(request, capability)
    events = AuditEvent.objects.for_organization(request.organization)
    return events if where is None else events.filter(workspace__in=where)


@org_view()
def organization_audit(request):
    return _timeline(request, _readable(request, "audit.read"), "onboarding/audit_log.html", {
        "can_export": workspaces_where(request, "audit.export") != []})


@org_view()
def organization_audit_export(request, fmt: str):
    if fmt not in {"csv", "jsonl"}:
        raise Http404("Unknown format")
    _, filters = _filters(request)
    events = filtered(_readable(request, "audit.export"), filters)
    # Recorded before streaming: the export proves the log was reviewed (audit-ready).
    record(action=Action.AUDIT_EXPORTED, actor=request.user, organization=request.organization,
           details={"format": fmt})
    stream = export_csv(events) if fmt == "csv" else export_jsonl(events)
    response = StreamingHttpResponse(
        stream, content_type="text/csv" if fmt == "csv" else "application/x-ndjson")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = (
        f'attachment; filename="audit-{request.organization.slug}-{stamp}.{fmt}"')
    return response


@org_view("billing.read")
def billing(request):
    """The organization's billing profile. Here, not in workspaces, because a change goes
    through the production review: locked while a billing stage waits for a reviewer,
    and sending an approved one back to review."""
    profile = (BillingProfile.objects.filter(organization=request.organization).first()
               or BillingProfile(organization=request.organization))
    form = BillingProfileForm(request.POST or None, instance=profile)
    if request.method == "POST":
        require(request, "billing.manage")
        if form.is_valid():
            try:
                change_billing_profile(actor=request.user, organization=request.organization,
                                       data=form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, "Billing profile saved.")
                return redirect("billing", request.organization.slug)
    return render_scoped(request, "workspaces/billing.html", {
        "form": form, "profile": profile, "can_manage": request.membership.can("billing.manage"),
    }, status=400 if form.errors else 200)
