from allauth.account.models import EmailAddress

from accounts.access import AccessFacts


def access_facts(user) -> AccessFacts:
    """Gather what the account-access page needs about one user (one query)."""
    verified = EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True)
    return AccessFacts(email=user.email, email_verified=verified.exists())
