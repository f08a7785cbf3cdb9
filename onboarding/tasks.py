from celery import shared_task

from onboarding.models import ReviewStage, StageKind, StageStatus
from onboarding.review.services import sync_portal_stages as sync_workspace
from workspaces.models import Workspace

# Reviews looked at per run, least recently changed first, so every one gets its turn.
SYNC_BATCH = 500


@shared_task(queue="default", time_limit=120, soft_time_limit=110)
def sync_portal_stages() -> int:
    """Beat: the portal submits or withdraws every open integration verification whose
    checks changed (see onboarding/review/services/portal.py); safe to run twice."""
    ids = list(ReviewStage.objects.filter(kind=StageKind.INTEGRATION)
               .exclude(status=StageStatus.APPROVED).order_by("updated_at", "pk")
               .values_list("review__workspace_id", flat=True)[:SYNC_BATCH])
    changed = 0
    for workspace in Workspace.objects.filter(pk__in=ids).select_related("organization"):
        changed += sync_workspace(workspace=workspace) is not None
    return changed
