from typing import Any

from django.db import models
from django.http import HttpRequest

from audit.models import Action, AuditEvent


def client_ip(request: HttpRequest | None) -> str | None:
    """The peer address as the web server saw it (set REMOTE_ADDR from a trusted proxy)."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def record(
    *,
    action: Action,
    actor=None,
    request: HttpRequest | None = None,
    target: models.Model | None = None,
    organization=None,
    workspace=None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit event; call it inside the transaction of the change it describes."""
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
        ip_address=client_ip(request),
        user_agent=(request.META.get("HTTP_USER_AGENT", "") if request else "")[:512],
        details=details or {},
    )
