from django.utils.functional import SimpleLazyObject

from onboarding.lanes import review_progress
from onboarding.selectors import banner_for, workspace_facts
from portal.context_processors import STAGES


def _workspace_stage(request, workspace):
    # An environment-specific page shows the environment it shows, once it is open; every
    # other workspace page shows where the workspace lives: Production after the last
    # approval, Sandbox once sandbox access is granted.
    environment = getattr(request, "environment", None) or workspace.home_environment
    return STAGES[environment if workspace.is_open(environment) else "account"]


def next_lane(request) -> dict:
    """The banner on every signed-in page, and the stage band of workspace pages.
    Lazy: pages that draw neither pay nothing."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    context = {"lane_banner": SimpleLazyObject(lambda: banner_for(request))}
    workspace = getattr(request, "workspace", None)
    if workspace is not None:
        context["stage"] = SimpleLazyObject(lambda: _workspace_stage(request, workspace))
        # The workspace navigation's "Production review" entry: its status, and whether
        # this page is one of the review's (highlighted).
        context["review_status"] = SimpleLazyObject(
            lambda: review_progress(workspace_facts(request, workspace)))
        match = getattr(request, "resolver_match", None)
        context["on_review_page"] = bool(match and (match.url_name or "").startswith("review_"))
    return context
