from typing import Any

from django.db import models

from audit import context
from audit.models import Action, AuditEvent


def record(
    *,
    action: Action,
    actor=None,
    target: models.Model | None = None,
    organization=None,
    workspace=None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit event; call it inside the transaction of the change it describes.

    The IP, user agent and request id come from the bound audit context (audit.context).
    """
    ctx = context.current()
    if actor is not None and not getattr(actor, "is_authenticated", True):
        actor = None
    if workspace is not None and organization is None:
        organization = workspace.organization
    return AuditEvent.objects.create(
        action=action,
        actor=actor,
        organization=organization,
        workspace=workspace,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        ip_address=ctx.ip,
        user_agent=ctx.user_agent,
        request_id=ctx.request_id,
        details=details or {},
    )
