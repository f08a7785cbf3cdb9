"""Accept the invitation a newcomer opened before signing up (allauth's only hook)."""

from allauth.account.signals import user_signed_up
from django.dispatch import receiver

from workspaces.services.invitations import accept_invitation, find_invitation, invitation_problem

SESSION_KEY = "invitation_token"


@receiver(user_signed_up)
def accept_invitation_after_sign_up(sender, request, user, **kwargs) -> None:
    token = request.session.pop(SESSION_KEY, None) if request is not None else None
    invitation = find_invitation(token) if token else None
    # The invited address is verified by signing up with it from the emailed link;
    # a different address goes through verification and sees the invitation on /access/.
    if invitation is not None and invitation_problem(invitation, user) is None:
        accept_invitation(actor=user, invitation_id=invitation.pk)
