"""The organization's billing profile.

Each service owns its transaction: it locks the row it changes, validates, writes the
change and its audit event together, and sends mail only after commit.
"""


from django.db import transaction

from audit.models import Action
from audit.services import record
from workspaces.models import (
    BillingProfile,
    Organization,
)


@transaction.atomic
def update_billing_profile(*, actor, organization: Organization, data: dict) -> BillingProfile:
    """Save the organization's billing profile; fields may be filled over time."""
    profile, _ = BillingProfile.objects.select_for_update().get_or_create(
        organization=organization)
    changed = [f for f, v in data.items() if getattr(profile, f) != v]
    for field, value in data.items():
        setattr(profile, field, value)
    profile.updated_by = actor
    profile.full_clean()
    profile.save()
    record(action=Action.BILLING_PROFILE_UPDATED, actor=actor, organization=organization,
           target=profile, details={"fields": sorted(changed)})
    return profile
