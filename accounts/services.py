"""Account writes that allauth does not make itself."""

from allauth.account.models import EmailAddress
from django.db import transaction

from accounts.models import User
from audit.models import Action
from audit.services import record


def address_is_unclaimed(email: str) -> bool:
    """True when nobody verified `email` and it is nobody's login address.

    Unverified addresses that other accounts merely added do not count: anyone can add
    any address to their own account, so such a row proves nothing.
    """
    return not (User.objects.filter(email__iexact=email).exists()
                or EmailAddress.objects.filter(email__iexact=email, verified=True).exists())


def release_unverified_address(*, email: str) -> int:
    """Remove `email` from every account that added it without verifying it; audit each.

    Called when someone proves they hold the address (the emailed invitation link):
    an unverified row elsewhere must not keep them out. Returns how many were removed.
    """
    with transaction.atomic():
        squatted = list(EmailAddress.objects.select_for_update().select_related("user")
                        .filter(email__iexact=email, verified=False)
                        .exclude(user__email__iexact=email))
        for address in squatted:
            record(action=Action.EMAIL_REMOVED, target=address.user,
                   details={"email": address.email,
                            "reason": "taken by a sign-up that proved the address"})
            address.delete()
    return len(squatted)
