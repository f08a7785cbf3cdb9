from django.utils.functional import SimpleLazyObject

from workspaces.models import Membership


def organizations(request) -> dict:
    """The header's organization switcher: the signed-in user's organizations (one
    query, and only on pages that show the switcher)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"my_memberships": SimpleLazyObject(lambda: list(
        Membership.objects.active().filter(user=user).select_related("organization")
        .order_by("organization__name")))}
