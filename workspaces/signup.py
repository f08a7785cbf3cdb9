"""The sign-up form, aware of the invitation link that brought the visitor."""

from allauth.account.adapter import get_adapter
from allauth.core import context

from accounts.signup import PortalSignupForm
from workspaces.receivers import SESSION_KEY
from workspaces.services.invitations import find_invitation, invitation_problem


def drop_stale_invitation_proof(request) -> None:
    """Forget the address an invitation link proved once that invitation no longer works.

    Opening the link stashes its address as verified for this session (views.invitation);
    a link revoked, expired or sent by someone who may no longer invite proves nothing.
    """
    token = request.session.get(SESSION_KEY)
    if token is not None and invitation_problem(find_invitation(token)) is not None:
        get_adapter(request).unstash_verified_email(request)
        request.session.pop(SESSION_KEY, None)


class InvitationSignupForm(PortalSignupForm):
    def clean_email(self) -> str:
        drop_stale_invitation_proof(context.request)
        return super().clean_email()
