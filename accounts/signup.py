"""allauth's sign-up form, for addresses that an unverified row elsewhere would block."""

from allauth.account.forms import SignupForm
from allauth.core import context

from accounts.services import address_is_unclaimed


class PortalSignupForm(SignupForm):
    """With enumeration prevention, allauth treats an address that another account added
    (even unverified) as taken and mails "you already have an account". When this
    session proved the address (an invitation link to it), such rows do not count."""

    def validate_unique_email(self, value) -> str:
        value = super().validate_unique_email(value)
        if self.account_already_exists:
            from allauth.account.adapter import get_adapter

            proved = get_adapter().is_email_verified(context.request, value)
            self.account_already_exists = not (proved and address_is_unclaimed(value))
        return value
