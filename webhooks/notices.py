"""An endpoint's health across its attempts: warning its people, then disabling it.

The rule (retry.health_action): an endpoint is disabled only after it has failed
continuously for 5 days *and* its Owners and Technical leads were warned at least a day
earlier, by email and on its page. 410 Gone is the receiver asking us to stop: it
disables at once. The settle step calls these with the endpoint row locked; the periodic
check (`check_failing_endpoints`) applies the rule to endpoints that get no new events.
"""

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.mail import send_templated
from audit.models import Action
from audit.services import record
from webhooks import retry
from webhooks.client import Outcome
from webhooks.models import Endpoint
from workspaces.models import Membership
from workspaces.roles import Role

CHECK_BATCH = 200


def people_to_warn(endpoint: Endpoint) -> list[str]:
    """The emails of the Owners and Technical leads of the endpoint's organization."""
    return list(Membership.objects.for_organization(endpoint.workspace.organization_id)
                .filter(roles__overlap=[Role.OWNER, Role.TECHNICAL_LEAD])
                .values_list("user__email", flat=True))


def _mail(endpoint: Endpoint, template: str, **context) -> None:
    workspace = endpoint.workspace
    path = reverse("webhook_endpoint", kwargs={
        "org_slug": workspace.organization.slug, "ws_slug": workspace.slug,
        "environment": endpoint.environment, "endpoint_id": endpoint.public_id})
    send_templated(f"webhooks/email/{template}", people_to_warn(endpoint),
                   {"endpoint": endpoint, "workspace": workspace,
                    "url": f"{settings.SITE_URL}{path}", **context})


def _disable(endpoint: Endpoint, reason: str, now: datetime) -> None:
    endpoint.enabled, endpoint.disabled_at, endpoint.disabled_reason = False, now, reason
    record(action=Action.WEBHOOK_ENDPOINT_DISABLED, workspace=endpoint.workspace,
           target=endpoint, details={"endpoint_id": endpoint.public_id, "reason": reason,
                                     "by": "platform"})
    _mail(endpoint, "endpoint_disabled")


def _apply_rule(endpoint: Endpoint, now: datetime) -> None:
    action = retry.health_action(endpoint.failing_since, endpoint.disable_warned_at, now)
    if action == "warn":
        endpoint.disable_warned_at = now
        _mail(endpoint, "endpoint_failing", disable_at=max(
            endpoint.failing_since + retry.DISABLE_AFTER, now + retry.WARN_BEFORE_DISABLE))
    elif action == "disable":
        _disable(endpoint, f"Every delivery failed since "
                           f"{endpoint.failing_since:%d %b %Y %H:%M} UTC.", now)


def secret_unreadable(endpoint: Endpoint, now: datetime) -> None:
    """Disable an endpoint whose signing secret no key of WEBHOOK_SECRET_KEYS decrypts
    (the caller holds its row locked); its deliveries wait for it to be enabled."""
    endpoint = Endpoint.objects.select_related("workspace__organization").get(pk=endpoint.pk)
    _disable(endpoint, "Its signing secret cannot be decrypted with the portal's keys. "
                       "Rotate the signing secret, then enable the endpoint.", now)
    endpoint.save(update_fields=["enabled", "disabled_at", "disabled_reason", "updated_at"])


def quick(outcome: Outcome) -> bool:
    """A success within settings.WEBHOOK_QUICK_ANSWER_MS."""
    return outcome.succeeded and outcome.latency_ms <= settings.WEBHOOK_QUICK_ANSWER_MS


def after_failure(endpoint: Endpoint, outcome: Outcome, now: datetime) -> None:
    """Start or continue the endpoint's run of failures; warn, then disable, by the rule."""
    endpoint.answers_quickly = False
    if endpoint.failing_since is None:
        endpoint.failing_since = now
    if outcome.status_code == 410:
        _disable(endpoint, "The endpoint answered 410 Gone.", now)
    else:
        _apply_rule(endpoint, now)


def after_success(endpoint: Endpoint, outcome: Outcome, now: datetime) -> None:
    """A success ends the run of failures and any warning."""
    endpoint.answers_quickly = quick(outcome)
    endpoint.failing_since = endpoint.disable_warned_at = None
    endpoint.first_acknowledged_at = endpoint.first_acknowledged_at or now


# The same condition as unchanged_by's on the endpoint, in SQL, for the engine's settle
# (its table aliased `ep`).
STEADY_SQL = ("(ep.answers_quickly AND ep.failing_since IS NULL AND ep.disable_warned_at "
              "IS NULL AND ep.first_acknowledged_at IS NOT NULL)")


def unchanged_by(endpoint: Endpoint, outcome: Outcome) -> bool:
    """True when this outcome leaves the endpoint's health as it is (the usual success)."""
    return quick(outcome) and endpoint.answers_quickly and endpoint.failing_since is None \
        and endpoint.disable_warned_at is None and endpoint.first_acknowledged_at is not None


def check_failing_endpoints(*, now: datetime | None = None) -> int:
    """Apply the warn-then-disable rule to every enabled failing endpoint, whether or not
    new events arrive; returns how many were warned or disabled."""
    now = now or timezone.now()
    changed = 0
    candidates = list(Endpoint.objects.enabled().filter(failing_since__isnull=False)
                      .order_by("pk").values_list("pk", flat=True)[:CHECK_BATCH])
    for pk in candidates:
        with transaction.atomic():
            endpoint = (Endpoint.objects.select_for_update(of=("self",))
                        .select_related("workspace__organization")
                        .filter(pk=pk, enabled=True, failing_since__isnull=False).first())
            if endpoint is None:
                continue
            before = (endpoint.enabled, endpoint.disable_warned_at)
            _apply_rule(endpoint, now)
            if (endpoint.enabled, endpoint.disable_warned_at) != before:
                endpoint.save(update_fields=["enabled", "disabled_at", "disabled_reason",
                                             "disable_warned_at", "updated_at"])
                changed += 1
    return changed
