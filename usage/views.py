import json

from django.contrib.auth.decorators import login_not_required
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from keys.gateway import machine_json, problem, service_token_required
from keys.models import Environment
from usage import charts, selectors, services
from usage.forms import RequestLogForm, UsageFilterForm
from usage.histogram import BUCKETS
from usage.models import StatusClass
from usage.records import MAX_BODY_BYTES, InvalidBatch, parse_batch
from workspaces.scoping import (
    environment_view,
    render_scoped,
    resolve_environment,
    workspace_view,
)

MAX_ERRORS_SHOWN = 20


def _environment(request, environment: str | None) -> str:
    """`usage/` shows where the workspace lives (production after the last approval);
    `usage/<environment>/` the one named. Sandbox and production calls never mix."""
    return resolve_environment(request, environment or request.workspace.home_environment)


def _form(request, environment: str) -> UsageFilterForm:
    return UsageFilterForm(
        request.GET or None,
        keys=selectors.key_choices(request.workspace, environment),
        endpoints=selectors.endpoint_choices(request.workspace, environment))


@workspace_view("usage.read")
@require_GET
def usage_page(request, environment: str | None = None):
    environment = _environment(request, environment)
    form = _form(request, environment)
    filters = form.filters()
    if environment == Environment.SANDBOX:
        # A write in a GET, on purpose: opening this page after a call exists is the
        # lane's "review usage" step. It is one UPDATE ... WHERE usage_reviewed_at IS
        # NULL, so reloads, prefetches and concurrent opens change nothing after the first.
        services.mark_usage_reviewed(workspace=request.workspace, user=request.user)
    report = selectors.usage_report(request.workspace, environment, filters)
    export_query = request.GET.urlencode() if form.is_bound and form.is_valid() else ""
    return render_scoped(request, "usage/usage.html", {
        "environment": environment, "form": form, "report": report,
        "charts": charts.report_charts(report) if report.totals.count else [],
        "rows": charts.report_rows(report), "export_query": export_query,
        "classes": [StatusClass(c).label for c in report.classes],
        "breakdowns": [("Top endpoints", report.endpoints), ("Top keys", report.keys)],
        "bucket_labels": [bucket.label for bucket in BUCKETS],
    }, status=400 if form.errors else 200)


@workspace_view("usage.read")
@require_GET
def usage_export(request, environment: str | None = None):
    environment = _environment(request, environment)
    filters = _form(request, environment).filters()
    stream = selectors.export_csv(request.workspace, environment, filters)
    response = StreamingHttpResponse(stream, content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = (
        f'attachment; filename="usage-{request.workspace.slug}-{environment}-{filters.range}-'
        f'{stamp}.csv"')
    return response


@environment_view("read")
@require_GET
def request_log(request, environment: str):
    workspace = request.workspace
    form = RequestLogForm(request.GET or None,
                          keys=selectors.key_choices(workspace, environment),
                          endpoints=selectors.endpoint_choices(workspace, environment))
    filters = form.filters()
    page = selectors.request_log(workspace, environment, filters)
    older = ""
    if page.next_cursor:
        query = request.GET.copy()
        query["before"] = page.next_cursor
        older = query.urlencode()
    return render_scoped(request, "usage/requests.html", {
        "environment": environment, "form": form, "filters": filters, "page": page,
        "older_query": older, "days": selectors.LOG_DAYS,
        "kept_days": services.RAW_RETENTION.days,
    }, status=400 if form.errors else 200)


def _invalid(error: InvalidBatch):
    first = error.errors[0]
    return problem(
        400, "INVALID_REQUEST", f"{first.pointer} {first.detail}. Nothing was stored.",
        index=first.index, field=first.field or None,
        errors=[{"index": e.index, "field": e.field or None, "detail": e.detail}
                for e in error.errors[:MAX_ERRORS_SHOWN]],
        error_count=len(error.errors))


@login_not_required
@service_token_required
def ingest_usage(request):
    """The gateway reports calls: stored whole or not at all; repeats are counted, not stored."""
    declared = request.headers.get("Content-Length", "")
    if (declared.isdigit() and int(declared) > MAX_BODY_BYTES) or \
            len(request.body) > MAX_BODY_BYTES:
        return problem(413, "PAYLOAD_TOO_LARGE",
                       f"A report is at most {MAX_BODY_BYTES} bytes; send it in parts.")
    try:
        payload = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return problem(400, "INVALID_REQUEST", "The body is not JSON. Nothing was stored.")
    try:
        records = parse_batch(payload, now=timezone.now())
        accepted, duplicates = services.record_reported_calls(records=records)
    except InvalidBatch as error:
        return _invalid(error)
    return machine_json({"accepted": accepted, "duplicates": duplicates})
