from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from allauth.usersessions.adapter import DefaultUserSessionsAdapter

from accounts.services import release_unverified_address
from audit.context import current
from audit.models import Action, AuditEvent
from audit.services import record


class AccountAdapter(DefaultAccountAdapter):
    """allauth hooks: store the name from sign-up, audit sign-in and sign-out."""

    def save_user(self, request, user, form, commit=True):
        # An invitation link stashes the invited address as verified. allauth would add it
        # to any sign-up from this session; keep it only when that address is the one typed.
        email = form.cleaned_data.get("email", "")
        if not self.is_email_verified(request, email):
            self.unstash_verified_email(request)
        else:
            # The link proved the address: rows that merely claim it elsewhere go.
            release_unverified_address(email=email)
        user.full_name = form.cleaned_data.get("full_name", "")
        return super().save_user(request, user, form, commit=commit)

    def login(self, request, user) -> None:
        user_agent = current().user_agent
        earlier = AuditEvent.objects.filter(actor=user, action=Action.SIGNED_IN)
        new_device = earlier.exists() and not earlier.filter(user_agent=user_agent).exists()
        super().login(request, user)
        record(action=Action.SIGNED_IN, actor=user, target=user)
        if new_device:
            self.send_notification_mail("account/email/new_device_sign_in", user)

    def logout(self, request) -> None:
        user = request.user if request.user.is_authenticated else None
        if user is not None:
            record(action=Action.SIGNED_OUT, actor=user, target=user)
        super().logout(request)

    def send_password_reset_mail(self, user, email, context) -> None:
        record(action=Action.PASSWORD_RESET_REQUESTED, target=user, details={"email": email})
        super().send_password_reset_mail(user, email, context)

    def _get_login_attempts_cache_key(self, request, **credentials) -> str:
        # allauth counts failed sign-ins per account ("key" in ACCOUNT_RATE_LIMITS): then
        # anyone could lock anyone out with five wrong passwords. Counted per (client
        # address, account) instead, the per-address limit with a higher bound on top.
        account = super()._get_login_attempts_cache_key(request, **credentials)
        return f"{self.get_client_ip(request)}:{account}"

    def authentication_failed(self, request, **credentials) -> None:
        # Only the attempted address is kept, never the password.
        record(
            action=Action.SIGN_IN_FAILED, details={"email": str(credentials.get("email",
                                                                ""))[:254]},
        )
        super().authentication_failed(request, **credentials)


class UserSessionsAdapter(DefaultUserSessionsAdapter):
    """allauth's session list: ending a session is an audit event."""

    def end_sessions(self, sessions) -> None:
        request = context.request
        actor = request.user if request is not None else None
        for session in sessions:
            record(action=Action.SESSION_ENDED, actor=actor, target=session.user,
                   details={"ip": session.ip, "user_agent": session.user_agent[:200]})
        super().end_sessions(sessions)
