"""Audit rows for account changes that allauth reports only through signals."""

from allauth.account import signals as account_signals
from allauth.mfa import signals as mfa_signals
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from accounts.middleware import mark_seen
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


@receiver(mfa_signals.authenticator_added)
def end_other_sessions_on_mfa(sender, request, user, authenticator, **kwargs) -> None:
    # A session opened with the password alone (perhaps by whoever made the person turn
    # on MFA) must not outlive it.
    from allauth.mfa.models import Authenticator
    from allauth.usersessions.adapter import get_adapter
    from allauth.usersessions.models import UserSession

    if authenticator.type == Authenticator.Type.RECOVERY_CODES:
        return
    session = getattr(request, "session", None)
    others = UserSession.objects.filter(user_id=user.pk).exclude(
        session_key=getattr(session, "session_key", None) or "")
    get_adapter().end_sessions(list(others))


@receiver(mfa_signals.authentication_failed)
def on_mfa_failed(sender, request, user, authenticator, **kwargs) -> None:
    record(action=Action.MFA_FAILED, actor=user, target=user,
           details={"type": authenticator.type,
                    "reauthentication": bool(kwargs.get("reauthentication"))})


@receiver(account_signals.authentication_step_completed)
def on_reauthenticated(sender, request, user, method, **kwargs) -> None:
    if kwargs.get("reauthenticated"):
        record(action=Action.REAUTHENTICATED, actor=user, target=user, details={"method": method})


@receiver(user_logged_in)
def start_idle_clock(sender, request, user, **kwargs) -> None:
    mark_seen(request.session, user)
