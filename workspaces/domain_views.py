"""The organization's email domains: claim, prove by DNS, re-check, release (Owners)."""

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from workspaces import domain_claims
from workspaces.domains import txt_name, txt_value
from workspaces.forms import DomainForm
from workspaces.models import DomainClaim
from workspaces.scoping import org_view, render_scoped


@org_view("members.manage")
@reauthentication_required(allow_get=True)
def domains(request):
    form = DomainForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            claim = domain_claims.claim_domain(actor=request.user,
                                               organization=request.organization,
                                               domain=form.cleaned_data["domain"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"{claim.domain} is claimed. Publish the TXT record "
                                      "below, then check it.")
            return redirect("domains", request.organization.slug)
    claims = DomainClaim.objects.for_organization(request.organization).select_related(
        "claimed_by")
    return render_scoped(request, "workspaces/domains.html", {
        "form": form,
        "claims": [(c, txt_name(c.domain), txt_value(c.token)) for c in claims],
    }, status=400 if form.errors else 200)


@org_view("members.manage")
@require_POST
def domain_check(request, claim_id: int):
    get_object_or_404(DomainClaim.objects.for_organization(request.organization), pk=claim_id)
    claim = domain_claims.check_domain(claim_id=claim_id, actor=request.user)
    if claim is None:
        messages.error(request, "That domain is no longer claimed.")
    elif claim.is_verified:
        messages.success(request, f"{claim.domain} is verified: people with a verified "
                                  f"address there can ask to join {request.organization}.")
    else:
        messages.error(request, f"{claim.domain} is still pending. {claim.check_error}")
    return redirect("domains", request.organization.slug)


@org_view("members.manage")
@require_POST
def domain_release(request, claim_id: int):
    claim = get_object_or_404(DomainClaim.objects.for_organization(request.organization),
                              pk=claim_id)
    try:
        domain_claims.release_domain(actor=request.user, claim_id=claim.pk,
                                     organization=request.organization)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.info(request, f"{claim.domain} is released.")
    return redirect("domains", request.organization.slug)
