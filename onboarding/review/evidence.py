"""The checks the portal computes for a stage, from the workspace's own records.

Each check is a key (the one a reviewer names when requesting changes), a label, pass or
fail, a sentence of detail and, where there is one, the time it was first met.
"""

from dataclasses import asdict, dataclass
from datetime import timedelta

from allauth.mfa.models import Authenticator
from django.db.models import Exists, Max, Min, OuterRef, Q, Sum
from django.urls import reverse
from django.utils import timezone

from audit.models import Action, AuditEvent
from keys.models import ApiKey, Environment, KeyPolicy
from keys.policy import DEFAULT_MAX_KEY_AGE_DAYS
from onboarding.review import catalog
from usage.models import HourlyUsage, StatusClass
from webhooks.models import Endpoint
from workspaces.models import BillingProfile, Membership
from workspaces.roles import Role, roles_in_workspace
from workspaces.scoping import grants_on

MFA_TYPES = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)


@dataclass(frozen=True)
class Check:
    key: str
    label: str
    passed: bool
    detail: str
    at: str | None = None  # ISO time the item was first met
    fix_url: str = ""  # where to fix it, while it fails
    fix_text: str = ""
    # Recommended, not required: shown with the others, never holds back a submission
    # (DESIGN §4 lists the audit-ready checks that must pass).
    advisory: bool = False

    @property
    def blocks(self) -> bool:
        return not self.passed and not self.advisory

    def as_dict(self) -> dict:
        return asdict(self)

    def fixed_at(self, url: str, text: str) -> "Check":
        """The same check with where to fix it, if it fails."""
        if self.passed:
            return self
        return Check(self.key, self.label, self.passed, self.detail, self.at, url, text,
                     self.advisory)


def _ws(name: str, workspace, *args) -> str:
    return reverse(name, args=[workspace.organization.slug, workspace.slug, *args])


def _org(name: str, workspace) -> str:
    return reverse(name, args=[workspace.organization.slug])


def _members(workspace) -> list[tuple[str, list[str], bool]]:
    """Members who may open the workspace, with their roles there (guardian grants, else
    the organization's) and whether two-factor authentication is on; two queries."""
    grants = grants_on(workspace)
    mfa = Authenticator.objects.filter(user=OuterRef("user"), type__in=MFA_TYPES)
    rows = (Membership.objects.for_organization(workspace.organization_id)
            .annotate(has_mfa=Exists(mfa)).order_by("user__full_name", "user__email")
            .values_list("user_id", "user__full_name", "user__email", "roles", "restricted",
                         "has_mfa"))
    members = []
    for user_id, name, email, roles, restricted, has_mfa in rows:
        here = roles_in_workspace(roles, restricted, grants.get(user_id, ()))
        if here is not None:
            members.append((name or email, list(here), has_mfa))
    return members


def _assigned(members, role: Role, key: str, label: str) -> Check:
    names = [name for name, roles, _ in members if role in roles]
    if names:
        return Check(key, label, True, ", ".join(names))
    return Check(key, label, False, f"Nobody holds the {role.label} role yet; invite one.")


def billing_checks(workspace) -> list[Check]:
    """A billing contact is assigned and the organization's billing profile is complete."""
    members = _members(workspace)
    profile = BillingProfile.objects.filter(organization=workspace.organization).first()
    if profile is None:
        complete = Check("billing_profile", "Billing profile complete", False,
                         "No billing profile yet.")
    elif profile.missing_fields:
        complete = Check("billing_profile", "Billing profile complete", False,
                         "Missing: " + ", ".join(profile.missing_fields) + ".")
    else:
        complete = Check("billing_profile", "Billing profile complete", True,
                         ", ".join(v for v in (
                             profile.legal_name, profile.address_line1, profile.address_line2,
                             f"{profile.postal_code} {profile.city}", profile.country,
                             f"tax ID {profile.tax_id}", profile.billing_email) if v),
                         profile.updated_at.isoformat())
    return [_assigned(members, Role.BILLING_CONTACT, "billing_contact",
                      "Billing contact assigned").fixed_at(
                          _org("invitations", workspace), "Invite a billing contact"),
            complete.fixed_at(_org("billing", workspace), "Complete the billing profile")]


def integration_checks(workspace, now=None) -> list[Check]:
    """Sandbox evidence: required endpoints called, a webhook acknowledged, errors under
    the limit over the last days, and no active key older than the limit."""
    now = now or timezone.now()
    sandbox = HourlyUsage.objects.for_workspace(workspace, Environment.SANDBOX)
    seen = dict(sandbox.filter(endpoint__in=catalog.REQUIRED_ENDPOINTS,
                               status_class=StatusClass.SUCCESS, count__gt=0)
                .values("endpoint").annotate(first=Min("period_start"))
                .values_list("endpoint", "first"))
    checks = []
    for endpoint in catalog.REQUIRED_ENDPOINTS:
        first = seen.get(endpoint)
        checks.append(Check(
            f"endpoint:{endpoint}", f"Successful call to {endpoint}", first is not None,
            f"First succeeded in the hour of {first:%d %b %Y %H:00} UTC." if first else
            f"No successful sandbox call to {endpoint} yet.",
            first.isoformat() if first else None).fixed_at(
                "/docs/sandbox-api/", f"Call {endpoint} as the Sandbox API reference shows"))
    acknowledged = (Endpoint.objects.filter(workspace=workspace,
                                            environment=Environment.SANDBOX)
                    .aggregate(at=Min("first_acknowledged_at"))["at"])
    checks.append(Check("webhook_acknowledged", "A webhook delivery acknowledged",
                        acknowledged is not None,
                        f"First acknowledged {acknowledged:%d %b %Y %H:%M} UTC."
                        if acknowledged else "No test event acknowledged with a 2xx yet.",
                        acknowledged.isoformat() if acknowledged else None).fixed_at(
                            _ws("webhook_list", workspace, "sandbox"),
                            "Send a test event from Webhooks"))
    since = now - timedelta(days=catalog.ERROR_RATE_DAYS)
    totals = sandbox.filter(period_start__gte=since).aggregate(
        calls=Sum("count"), errors=Sum("error_count"), last=Max("period_start"))
    calls, errors = totals["calls"] or 0, totals["errors"] or 0
    rate = errors / calls if calls else None
    limit = f"{catalog.ERROR_RATE_LIMIT:.0%}"
    checks.append(Check(
        "error_rate", f"Error rate under {limit} over {catalog.ERROR_RATE_DAYS} days",
        rate is not None and rate < catalog.ERROR_RATE_LIMIT,
        f"{errors} errors in {calls} calls ({rate:.1%})." if rate is not None else
        f"No sandbox calls in the last {catalog.ERROR_RATE_DAYS} days.",
        totals["last"].isoformat() if totals["last"] else None).fixed_at(
            _ws("usage", workspace), "See the errors by endpoint in Usage"))
    checks.append(_key_age_check(workspace, now).fixed_at(
        _ws("key_list", workspace, "sandbox"), "Rotate or revoke them in API keys"))
    return checks


def _key_age_check(workspace, now) -> Check:
    """No active key older than the key policy's maximum age for its environment."""
    days = {env: DEFAULT_MAX_KEY_AGE_DAYS for env in Environment.values}
    days.update(KeyPolicy.objects.for_organization(workspace.organization_id)
                .values_list("environment", "max_key_age_days"))
    too_old = Q()
    for env, limit in days.items():
        too_old |= Q(environment=env, created_at__lt=now - timedelta(days=limit))
    old = list(ApiKey.objects.for_workspace(workspace).active(now).filter(too_old)
               .order_by("created_at").values_list("name", "public_id"))
    limits = " and ".join(f"{limit} days in {env}" for env, limit in days.items())
    return Check(
        "key_age", "No active key older than the key policy allows", not old,
        "Rotate or revoke: " + ", ".join(f"{n} ({p})" for n, p in old) +
        f". The key policy allows {limits}." if old
        else f"Every active key is younger than the key policy's {limits}.")


def audit_checks(workspace) -> list[Check]:
    """Security owner and compliance contact assigned, MFA on for every Owner and
    Technical lead and required for the organization, and the audit log exported at least
    once."""
    members = _members(workspace)
    leads = [(name, has_mfa) for name, roles, has_mfa in members
             if Role.OWNER in roles or Role.TECHNICAL_LEAD in roles]
    without = [name for name, has_mfa in leads if not has_mfa]
    exported = (AuditEvent.objects.for_organization(workspace.organization)
                .filter(action=Action.AUDIT_EXPORTED).aggregate(at=Min("occurred_at"))["at"])
    invite = _org("invitations", workspace)
    return [
        _assigned(members, Role.SECURITY_OWNER, "security_owner", "Security owner assigned")
        .fixed_at(invite, "Invite a security owner"),
        _assigned(members, Role.COMPLIANCE, "compliance_contact",
                  "Compliance contact assigned").fixed_at(invite, "Invite a compliance contact"),
        Check("mfa", "Two-factor authentication on for every Owner and Technical lead",
              bool(leads) and not without,
              "Not yet on for: " + ", ".join(without) + "." if without else
              f"On for all {len(leads)}.").fixed_at(
                  reverse("mfa_index"), "Each of them turns on two-factor authentication "
                                        "on their Two-factor authentication page"),
        Check("mfa_required", "Two-factor authentication required for the organization",
              workspace.organization.require_mfa,
              "Required of every member: nobody without it opens the organization's pages."
              if workspace.organization.require_mfa else
              "Recommended, not required for production: members without it can still "
              "open the organization's pages.", advisory=True).fixed_at(
                  _org("organization_settings", workspace),
                  "An Owner requires it in the organization's Settings"),
        Check("audit_exported", "Audit log exported at least once", exported is not None,
              f"First exported {exported:%d %b %Y %H:%M} UTC." if exported else
              "Export the audit log from the organization's Audit log page.",
              exported.isoformat() if exported else None).fixed_at(
                  _org("organization_audit", workspace), "Export it from the Audit log"),
    ]


COMPUTE = {"billing": billing_checks, "integration": integration_checks,
           "audit": audit_checks}


def checks_for(kind: str, workspace) -> list[Check]:
    """The live checks of a stage; the consent review has none."""
    compute = COMPUTE.get(kind)
    return compute(workspace) if compute else []
