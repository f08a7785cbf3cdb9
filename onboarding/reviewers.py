"""The platform reviewers' group: staff who decide sandbox requests and review stages in
the admin, and can do nothing else there."""

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied, ValidationError

from workspaces.models import Membership

GROUP = "Platform reviewers"
PERMISSIONS = [
    ("onboarding", "view_sandboxrequest"), ("onboarding", "change_sandboxrequest"),
    ("onboarding", "view_reviewstage"), ("onboarding", "change_reviewstage"),
]


def ensure_reviewers_group(**kwargs) -> Group:
    """Create or repair the group with exactly these permissions (safe to run twice)."""
    group, _ = Group.objects.get_or_create(name=GROUP)
    permissions = [Permission.objects.get(content_type__app_label=app, codename=codename)
                   for app, codename in PERMISSIONS]
    group.permissions.set(permissions)
    return group


def check_reviewer(reviewer, organization_id: int) -> None:
    """Raise unless `reviewer` may decide for this organization (sandbox requests and
    review stages alike): platform staff, a second factor on, and never a member of it."""
    if not reviewer.is_staff:
        raise PermissionDenied("Only platform reviewers decide sandbox requests and reviews.")
    if not reviewer.has_second_factor:
        raise ValidationError("Turn on two-factor authentication before deciding reviews.")
    # Former members too: having belonged is a conflict of interest.
    if Membership.objects.filter(user=reviewer, organization=organization_id).exists():
        raise ValidationError("You belong to this organization, so another reviewer must "
                              "decide.")
