"""An endpoint's health across its attempts: warning its people, then disabling it.

Called by the settle step, inside its transaction, with the endpoint row locked.
"""

from datetime import datetime

from django.conf import settings
from django.core.mail import send_mail

from audit.models import Action
from audit.services import record
from webhooks import retry
from webhooks.client import Outcome
from webhooks.models import Endpoint
from workspaces.models import Membership
from workspaces.roles import Role


def people_to_warn(endpoint: Endpoint) -> list[str]:
    return list(Membership.objects.for_organization(endpoint.workspace.organization_id)
                .filter(roles__overlap=[Role.OWNER, Role.TECHNICAL_LEAD])
                .values_list("user__email", flat=True))


def _mail(endpoint: Endpoint, subject: str, text: str) -> None:
    to = people_to_warn(endpoint)
    if to:
        url = (f"{settings.SITE_URL}/o/{endpoint.workspace.organization.slug}/w/"
               f"{endpoint.workspace.slug}/webhooks/{endpoint.environment}/"
               f"{endpoint.public_id}/")
        send_mail(subject, f"{text}\n\nEndpoint: {endpoint.url}\n{url}\n", None, to)


def _disable(endpoint: Endpoint, reason: str, now: datetime) -> None:
    endpoint.enabled, endpoint.disabled_at, endpoint.disabled_reason = False, now, reason
    record(action=Action.WEBHOOK_ENDPOINT_DISABLED, workspace=endpoint.workspace,
           target=endpoint, details={"endpoint_id": endpoint.public_id, "reason": reason,
                                     "by": "platform"})
    _mail(endpoint, "A webhook endpoint was disabled",
          f"We disabled the webhook endpoint below: {reason} Enable it again on the "
          "Webhooks page once it works.")


def after_failure(endpoint: Endpoint, outcome: Outcome, now: datetime) -> None:
    """Start or continue the endpoint's run of failures; warn, then disable, by the rule."""
    endpoint.answers_quickly = False
    if endpoint.failing_since is None:
        endpoint.failing_since = now
    if outcome.status_code == 410:
        _disable(endpoint, "The endpoint answered 410 Gone.", now)
    elif retry.should_disable(endpoint.failing_since, now):
        _disable(endpoint, f"Every delivery failed since "
                           f"{endpoint.failing_since:%d %b %Y %H:%M} UTC.", now)
    elif retry.should_warn(endpoint.failing_since, now) and endpoint.disable_warned_at is None:
        endpoint.disable_warned_at = now
        when = endpoint.failing_since + retry.DISABLE_AFTER
        _mail(endpoint, "A webhook endpoint will be disabled tomorrow",
              f"Every delivery to the webhook endpoint below has failed since "
              f"{endpoint.failing_since:%d %b %Y %H:%M} UTC. Unless one succeeds, we disable "
              f"it on {when:%d %b %Y %H:%M} UTC.")


def quick(outcome: Outcome) -> bool:
    """A success within settings.WEBHOOK_QUICK_ANSWER_MS."""
    return outcome.succeeded and outcome.latency_ms <= settings.WEBHOOK_QUICK_ANSWER_MS


def after_success(endpoint: Endpoint, outcome: Outcome, now: datetime) -> None:
    """A success ends the run of failures and any warning."""
    endpoint.answers_quickly = quick(outcome)
    endpoint.failing_since = endpoint.disable_warned_at = None
    endpoint.first_acknowledged_at = endpoint.first_acknowledged_at or now


def unchanged_by(endpoint: Endpoint, outcome: Outcome) -> bool:
    """True when this outcome leaves the endpoint's health as it is (the usual success)."""
    return quick(outcome) and endpoint.answers_quickly and endpoint.failing_since is None \
        and endpoint.disable_warned_at is None and endpoint.first_acknowledged_at is not None
