import json
from datetime import timedelta

from allauth.account.decorators import reauthentication_required
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from keys import services
from keys.forms import IssueKeyForm, KeyPolicyForm, RotateKeyForm
from keys.gateway import machine_json, problem, service_token_required
from keys.models import ApiKey, KeyPolicy
from keys.policy import Rules
from keys.selectors import verify
from portal import keyset
from workspaces.models import Environment
from workspaces.scoping import environment_view, in_production, org_view, render_scoped

KEYS_PER_PAGE = 50


def _list_context(request, environment):
    keys = (ApiKey.objects.for_workspace(request.workspace).filter(environment=environment)
            .select_related("created_by", "revoked_by"))
    # A page at a time by keyset: a workspace may hold thousands of keys.
    page = keyset.page(keys, field="created_at", size=KEYS_PER_PAGE,
                       after=keyset.decode(request.GET.get("before", "")))
    ws = request.workspace
    return {"keys": page.items, "page": page, "environment": environment,
            "older_query": f"before={page.next_cursor}" if page.next_cursor else "",
            "available": ws.is_open(environment),
            "can_manage": request.membership.can(f"{environment}.manage"),
            "production_api_url": settings.PRODUCTION_API_URL}


def _issue_form(request, environment, data=None) -> IssueKeyForm:
    """The issue form, its expiry field saying what the key policy allows."""
    form = IssueKeyForm(data)
    rules = KeyPolicy.objects.rules_for(request.workspace.organization_id, environment)
    form.fields["expires_at"].help_text = f"{rules.describe()} Times are UTC."
    form.fields["expires_at"].required = rules.expiry_required or bool(rules.max_expiry_days)
    return form


def _policies(organization) -> dict[str, KeyPolicy | None]:
    saved = {p.environment: p for p in KeyPolicy.objects.for_organization(organization)
             .select_related("updated_by")}
    return {env: saved.get(env) for env in Environment.values}


@org_view("policy.read")
def key_policy(request):
    policies = _policies(request.organization)
    rows = [(env, label, policies[env], policies[env].rules if policies[env] else Rules())
            for env, label in Environment.choices]
    return render_scoped(request, "keys/key_policy.html", {
        "rows": rows, "can_edit": request.membership.can("keys.policy")})


@org_view("keys.policy")
@reauthentication_required
def key_policy_edit(request):
    """The Security owner edits both environments' rules in one form, after
    reauthenticating."""
    policies = _policies(request.organization)
    forms = {env: KeyPolicyForm(request.POST or None, prefix=env, initial=vars(
        policies[env].rules if policies[env] else Rules())) for env in Environment.values}
    if request.method == "POST" and all([form.is_valid() for form in forms.values()]):
        try:
            with transaction.atomic():
                for env, form in forms.items():
                    services.set_key_policy(actor=request.user,
                                            organization=request.organization,
                                            environment=env, **form.cleaned_data)
        except ValidationError as error:
            forms[env].add_error(None, error)
        else:
            messages.success(request, "Key policy saved. Keys issued or rotated from now on "
                                      "obey it.")
            return redirect("key_policy", request.organization.slug)
    return render_scoped(request, "keys/key_policy_edit.html", {
        "forms": [(env, label, forms[env]) for env, label in Environment.choices]},
        status=400 if request.method == "POST" else 200)


@environment_view("read")
@never_cache
def key_list(request, environment: str):
    form = _issue_form(request, environment)
    return render_scoped(request, "keys/key_list.html",
                         {**_list_context(request, environment), "form": form})


@environment_view("manage")
@require_POST
@never_cache
@reauthentication_required(enabled=in_production)
def key_issue(request, environment: str):
    form = _issue_form(request, environment, request.POST)
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
                "production_api_url": settings.PRODUCTION_API_URL,
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
                overlap=timedelta(hours=form.cleaned_data["overlap_hours"]),
                expires_at=form.cleaned_data["expires_at"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            key.refresh_from_db()
            return render_scoped(request, "keys/key_secret.html", {
                "key": new, "secret": secret, "environment": environment, "replaced": key,
                "sandbox_url": request.build_absolute_uri("/sandbox/v1/ping"),
                "production_api_url": settings.PRODUCTION_API_URL,
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
