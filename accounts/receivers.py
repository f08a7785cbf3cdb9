"""Audit rows for account changes that allauth reports only through signals."""

from allauth.account import signals as account_signals
from allauth.mfa import signals as mfa_signals
from django.dispatch import receiver

from audit.models import Action
from audit.services import record


@receiver(account_signals.password_changed)
@receiver(account_signals.password_set)
def on_password_changed(sender, request, user, **kwargs) -> None:
    record(action=Action.PASSWORD_CHANGED, actor=user, target=user)


@receiver(account_signals.password_reset)
def on_password_reset(sender, request, user, **kwargs) -> None:
    record(action=Action.PASSWORD_RESET, actor=user, target=user)


@receiver(account_signals.email_changed)
def on_email_changed(sender, request, user, from_email_address, to_email_address, **kwargs):
    record(
        action=Action.EMAIL_CHANGED, actor=user, target=user,
        details={
            "from": from_email_address.email if from_email_address else None,
            "to": to_email_address.email,
        },
    )


@receiver(account_signals.email_added)
def on_email_added(sender, request, user, email_address, **kwargs) -> None:
    record(
        action=Action.EMAIL_ADDED, actor=user, target=user,
        details={"email": email_address.email},
    )


@receiver(account_signals.email_removed)
def on_email_removed(sender, request, user, email_address, **kwargs) -> None:
    record(
        action=Action.EMAIL_REMOVED, actor=user, target=user,
        details={"email": email_address.email},
    )


@receiver(account_signals.email_confirmed)
def on_email_confirmed(sender, request, email_address, **kwargs) -> None:
    record(
        action=Action.EMAIL_VERIFIED, actor=email_address.user, target=email_address.user,
        details={"email": email_address.email},
    )


@receiver(mfa_signals.authenticator_added)
def on_authenticator_added(sender, request, user, authenticator, **kwargs) -> None:
    record(
        action=Action.MFA_ADDED, actor=user, target=user,
        details={"type": authenticator.type},
    )


@receiver(mfa_signals.authenticator_removed)
def on_authenticator_removed(sender, request, user, authenticator, **kwargs) -> None:
    record(
        action=Action.MFA_REMOVED, actor=user, target=user,
        details={"type": authenticator.type},
    )


@receiver(mfa_signals.authenticator_reset)
def on_authenticator_reset(sender, request, user, authenticator, **kwargs) -> None:
    record(
        action=Action.MFA_RESET, actor=user, target=user,
        details={"type": authenticator.type},
    )
