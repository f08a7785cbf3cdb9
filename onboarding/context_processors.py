from django.utils.functional import SimpleLazyObject

from onboarding.selectors import banner_for, workspace_facts
from portal.context_processors import STAGES


def next_lane(request) -> dict:
    """The banner on every signed-in page, and the stage band of workspace pages
    (Sandbox once sandbox access is granted). Lazy: pages that draw neither pay nothing."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    context = {"lane_banner": SimpleLazyObject(lambda: banner_for(request))}
    workspace = getattr(request, "workspace", None)
    if workspace is not None:
        context["stage"] = SimpleLazyObject(lambda: STAGES[
            "sandbox" if workspace_facts(request, workspace).sandbox_approved else "account"])
    return context
