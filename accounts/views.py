from allauth.account.internal.flows.email_verification import send_verification_email_to_address
from allauth.account.models import EmailAddress
from django.shortcuts import redirect
from django.views.decorators.http import require_POST


@require_POST
def resend_verification(request):
    address = EmailAddress.objects.filter(user=request.user, email__iexact=request.user.email)
    address = address.first() or EmailAddress.objects.create(
        user=request.user, email=request.user.email, primary=True, verified=False
    )
    if not address.verified:
        # allauth's own flow: it applies the confirm_email rate limit and the message.
        send_verification_email_to_address(request, address)
    return redirect("access")
