import json
from datetime import timedelta

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from keys import services
from keys.forms import IssueKeyForm, RotateKeyForm
from keys.gateway import machine_json, problem, service_token_required
from keys.models import ApiKey
from keys.selectors import verify
from workspaces.scoping import environment_view, render_scoped


def _list_context(request, environment):
    keys = (ApiKey.objects.for_workspace(request.workspace).filter(environment=environment)
            .select_related("created_by", "revoked_by"))
    ws = request.workspace
    return {"keys": keys, "environment": environment, "available": ws.is_open(environment),
            "can_manage": request.membership.can(f"{environment}.manage")}


@environment_view("read")
@never_cache
def key_list(request, environment: str):
    form = IssueKeyForm()
    return render_scoped(request, "keys/key_list.html",
                         {**_list_context(request, environment), "form": form})


@environment_view("manage")
@require_POST
@never_cache
def key_issue(request, environment: str):
    form = IssueKeyForm(request.POST)
    if form.is_valid():
        try:
            key, secret = services.issue_key(
                actor=request.user, workspace=request.workspace, environment=environment,
                **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            # Shown in this response only: never stored, never redirected through a session.
            return render_scoped(request, "keys/key_secret.html", {
                "key": key, "secret": secret, "environment": environment,
                "sandbox_url": request.build_absolute_uri("/sandbox/v1/ping"),
            })
    return render_scoped(request, "keys/key_list.html",
                         {**_list_context(request, environment), "form": form}, status=400)


@environment_view("manage")
@reauthentication_required
@never_cache
def key_revoke(request, environment: str, public_id: str):
    key = get_object_or_404(ApiKey.objects.for_workspace(request.workspace)
                            .filter(environment=environment), public_id=public_id)
    if request.method == "POST":
        try:
            services.revoke_key(actor=request.user, workspace=request.workspace,
                                public_id=key.public_id)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"{key.name} ({key.masked}) is revoked. Calls with it "
                                      "now fail.")
        return redirect("key_list", request.organization.slug, request.workspace.slug,
                        environment)
    return render_scoped(request, "keys/key_revoke.html", {"key": key, "environment": environment})


@environment_view("manage")
@reauthentication_required
@never_cache
def key_rotate(request, environment: str, public_id: str):
    key = get_object_or_404(ApiKey.objects.for_workspace(request.workspace)
                            .filter(environment=environment), public_id=public_id)
    form = RotateKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            new, secret = services.rotate_key(
                actor=request.user, workspace=request.workspace, public_id=key.public_id,
                overlap=timedelta(hours=form.cleaned_data["overlap_hours"]))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            key.refresh_from_db()
            return render_scoped(request, "keys/key_secret.html", {
                "key": new, "secret": secret, "environment": environment, "replaced": key,
                "sandbox_url": request.build_absolute_uri("/sandbox/v1/ping"),
            })
    return render_scoped(request, "keys/key_rotate.html", {"key": key, "form": form,
                                                   "environment": environment},
                 status=400 if form.errors else 200)


@login_not_required
@service_token_required
def gateway_verify(request):
    """POST /api/v1/keys/verify {"key", "environment"?, "scope"?} for the API gateway."""
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return problem(400, "INVALID_REQUEST", "The body must be JSON.")
    presented = body.get("key") if isinstance(body, dict) else None
    if not isinstance(presented, str) or len(presented) > 200:
        return problem(400, "INVALID_REQUEST", "Send the presented key as \"key\".")
    result = verify(presented, environment=body.get("environment") or None,
                    scope=body.get("scope") or None)
    return machine_json(result.as_dict())
