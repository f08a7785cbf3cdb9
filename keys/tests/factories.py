from django.utils import timezone

from keys import services


def approve_sandbox(workspace):
    """Grant sandbox access the way the onboarding review does, without the review."""
    workspace.sandbox_approved_at = timezone.now()
    workspace.save(update_fields=["sandbox_approved_at"])
    return workspace


def issue(workspace, actor, *, environment="sandbox", name="web app",
          scopes=("accounts:read", "transactions:read"), **kwargs):
    """Issue a real key through the service; returns (ApiKey, secret)."""
    return services.issue_key(actor=actor, workspace=workspace, environment=environment,
                              name=name, scopes=list(scopes), **kwargs)
