from allauth.account.decorators import reauthentication_required
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from outbox import catalog
from webhooks import selectors, services
from webhooks.forms import (
    DisableForm,
    EndpointForm,
    EventFilterForm,
    LogFilterForm,
    ReplayForm,
    SampleEventForm,
)
from webhooks.models import Endpoint
from webhooks.payloads import body_of
from workspaces.scoping import environment_view, in_production, render_scoped, require


def _endpoint(request, environment: str, endpoint_id: str) -> Endpoint:
    return get_object_or_404(Endpoint.objects.for_workspace(request.workspace)
                             .filter(environment=environment), public_id=endpoint_id)


def _require_detail(request, environment: str) -> None:
    # A Developer's production is a read-only list (DESIGN §3): no delivery logs, response
    # excerpts or event payloads of live traffic.
    if environment == "production":
        require(request, "production.detail")


def _scope(request, environment: str) -> dict:
    return {"actor": request.user, "workspace": request.workspace, "environment": environment}


def _to_detail(request, environment, endpoint_id):
    return redirect("webhook_endpoint", request.organization.slug, request.workspace.slug,
                    environment, endpoint_id)


def _list_context(request, environment):
    ws = request.workspace
    return {"endpoints": Endpoint.objects.for_workspace(ws).filter(environment=environment),
            "environment": environment, "available": ws.is_open(environment),
            "can_manage": request.membership.can(f"{environment}.manage")}


@environment_view("read")
@require_GET
@never_cache
def endpoint_list(request, environment: str):
    return render_scoped(request, "webhooks/endpoint_list.html",
                         {**_list_context(request, environment), "form": EndpointForm()})


@environment_view("manage")
@require_POST
@never_cache
def endpoint_create(request, environment: str):
    form = EndpointForm(request.POST)
    if form.is_valid():
        try:
            endpoint = services.create_endpoint(**_scope(request, environment),
                                                **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Endpoint {endpoint.url} added. Send it a test event "
                                      "to check that it answers.")
            return _to_detail(request, environment, endpoint.public_id)
    return render_scoped(request, "webhooks/endpoint_list.html",
                         {**_list_context(request, environment), "form": form}, status=400)


@environment_view("read")
@require_GET
@never_cache
def endpoint_detail(request, environment: str, endpoint_id: str):
    _require_detail(request, environment)
    endpoint = _endpoint(request, environment, endpoint_id)
    filters = LogFilterForm(request.GET)
    chosen = filters.cleaned_data if filters.is_valid() else {}
    page = selectors.delivery_log(endpoint, status=chosen.get("status", ""),
                                  event_type=chosen.get("type", ""),
                                  before=request.GET.get("before", ""))
    for sent in page.items:
        sent.sent_body = body_of(sent.event).decode()
    query = request.GET.copy()
    query.pop("before", None)
    older = query.copy()
    older["before"] = page.next_cursor
    return render_scoped(request, "webhooks/endpoint_detail.html", {
        "endpoint": endpoint, "environment": environment, "page": page,
        "older_query": older.urlencode() if page.next_cursor else "",
        "filters": filters, "query": query.urlencode(), "replay_form": ReplayForm(),
        "disable_form": DisableForm(), "sample_form": SampleEventForm(endpoint=endpoint),
        "retention_days": settings.WEBHOOK_RETENTION_DAYS,
        "types": [catalog.TYPES[t] for t in endpoint.event_types if t in catalog.TYPES],
        "can_manage": request.membership.can(f"{environment}.manage"),
    })


@environment_view("manage")
@never_cache
@reauthentication_required(enabled=in_production, allow_get=True)
def endpoint_edit(request, environment: str, endpoint_id: str):
    endpoint = _endpoint(request, environment, endpoint_id)
    form = EndpointForm(request.POST or None, initial={
        "url": endpoint.url, "description": endpoint.description,
        "event_types": endpoint.event_types})
    if request.method == "POST" and form.is_valid():
        try:
            services.update_endpoint(**_scope(request, environment), public_id=endpoint_id,
                                     **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Endpoint saved.")
            return _to_detail(request, environment, endpoint_id)
    return render_scoped(request, "webhooks/endpoint_edit.html",
                 {"endpoint": endpoint, "form": form, "environment": environment},
                 status=400 if form.errors else 200)


def _act(request, environment, endpoint_id, action, success: str):
    endpoint = _endpoint(request, environment, endpoint_id)
    try:
        action(**_scope(request, environment), public_id=endpoint.public_id)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, success)
    return _to_detail(request, environment, endpoint.public_id)


@environment_view("manage")
@require_POST
def endpoint_test(request, environment: str, endpoint_id: str):
    endpoint = _endpoint(request, environment, endpoint_id)
    form = SampleEventForm(request.POST, endpoint=endpoint)
    event_type = form.cleaned_data["event_type"] if form.is_valid() else "webhook.test"
    return _act(request, environment, endpoint_id,
                lambda **kw: services.send_test_event(**kw, event_type=event_type),
                f"Test event sent. A {event_type} example goes to this endpoint only; its "
                "delivery shows in the log below within seconds.")


@environment_view("manage")
@require_POST
def endpoint_disable(request, environment: str, endpoint_id: str):
    form = DisableForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _act(request, environment, endpoint_id,
                lambda **kw: services.set_endpoint_enabled(**kw, enabled=False, reason=reason),
                "Endpoint disabled. New events wait until you enable it again.")


@environment_view("manage")
@require_POST
def endpoint_enable(request, environment: str, endpoint_id: str):
    return _act(request, environment, endpoint_id,
                lambda **kw: services.set_endpoint_enabled(**kw, enabled=True),
                "Endpoint enabled. Waiting deliveries resume.")


@environment_view("manage")
@require_POST
def endpoint_replay(request, environment: str, endpoint_id: str):
    form = ReplayForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter the date and time to replay events since.")
        return _to_detail(request, environment, endpoint_id)
    count = []

    def replay(**kw):
        count.append(services.replay_since(**kw, since=form.cleaned_data["since"]))

    response = _act(request, environment, endpoint_id, replay, "Replay queued.")
    if count:
        messages.info(request, f"{count[0]} event(s) will be sent again.")
    return response


@environment_view("manage")
@require_POST
def delivery_retry(request, environment: str, endpoint_id: str, delivery_id: int):
    return _act(request, environment, endpoint_id,
                lambda **kw: services.retry_delivery(**kw, delivery_id=delivery_id),
                "Sending now: the attempt shows in the log below within seconds.")


@environment_view("manage")
@reauthentication_required
@never_cache
def endpoint_secret(request, environment: str, endpoint_id: str):
    endpoint = _endpoint(request, environment, endpoint_id)
    secret = None
    if request.method == "POST":
        # Shown in this response only: never put in a session or a redirect.
        secret = services.reveal_secret(**_scope(request, environment),
                                        public_id=endpoint.public_id)
    return render_scoped(request, "webhooks/endpoint_secret.html",
                 {"endpoint": endpoint, "environment": environment, "secret": secret})


@environment_view("manage")
@reauthentication_required
@never_cache
def endpoint_rotate(request, environment: str, endpoint_id: str):
    endpoint = _endpoint(request, environment, endpoint_id)
    if request.method == "POST":
        try:
            endpoint = services.rotate_secret(**_scope(request, environment),
                                              public_id=endpoint.public_id)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "New signing secret created. Deliveries carry both "
                                      "signatures until "
                                      f"{endpoint.previous_secret_expires_at:%d %b %Y, %H:%M} "
                                      "UTC.")
        return _to_detail(request, environment, endpoint.public_id)
    return render_scoped(request, "webhooks/endpoint_rotate.html",
                 {"endpoint": endpoint, "environment": environment})


@environment_view("manage")
@never_cache
def endpoint_delete(request, environment: str, endpoint_id: str):
    endpoint = _endpoint(request, environment, endpoint_id)
    if request.method == "POST":
        services.delete_endpoint(**_scope(request, environment), public_id=endpoint.public_id)
        messages.success(request, f"Endpoint {endpoint.url} deleted. Nothing more is sent "
                                  "to it.")
        return redirect("webhook_list", request.organization.slug, request.workspace.slug,
                        environment)
    return render_scoped(request, "webhooks/endpoint_delete.html",
                         {"endpoint": endpoint, "environment": environment,
                          "deliveries": endpoint.deliveries.count()})


@environment_view("read")
@require_GET
@never_cache
def event_list(request, environment: str):
    _require_detail(request, environment)
    filters = EventFilterForm(request.GET)
    chosen = filters.cleaned_data if filters.is_valid() else {}
    page = selectors.event_log(request.workspace, environment,
                               event_type=chosen.get("type", ""),
                               status=chosen.get("status", ""),
                               page=request.GET.get("page", 1))
    query = request.GET.copy()
    query.pop("page", None)
    return render_scoped(request, "webhooks/event_list.html", {
        "environment": environment, "page": page, "filters": filters,
        "query": query.urlencode(), "retention_days": settings.WEBHOOK_RETENTION_DAYS})
