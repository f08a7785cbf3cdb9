"""The platform reviewers' group: staff who decide sandbox requests and review stages in
the admin, and can do nothing else there."""

from django.contrib.auth.models import Group, Permission

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
