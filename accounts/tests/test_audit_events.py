import pytest
from django.urls import reverse

from audit.models import Action, AuditEvent


@pytest.mark.django_db
def test_sign_in_and_sign_out_are_audited(client, user, password):
    client.post(reverse("account_login"), {"login": user.email, "password": password},
                HTTP_USER_AGENT="agent/1")
    client.post(reverse("account_logout"))

    actions = list(AuditEvent.objects.filter(actor=user).order_by("id")
                   .values_list("action", flat=True))
    assert actions == [Action.SIGNED_IN, Action.SIGNED_OUT]


@pytest.mark.django_db
def test_failed_sign_in_is_audited_without_the_password(client, user):
    client.post(reverse("account_login"), {"login": user.email, "password": "wrong-password-1"})

    event = AuditEvent.objects.get(action=Action.SIGN_IN_FAILED)
    assert event.actor is None
    assert event.details == {"email": user.email}
    assert "wrong-password-1" not in str(event.details)


@pytest.mark.django_db
def test_password_change_is_audited(signed_in_client, user, password):
    response = signed_in_client.post(reverse("account_change_password"), {
        "oldpassword": password, "password1": "a-new-password-42", "password2": "a-new-password-42",
    })

    assert response.status_code == 302
    assert AuditEvent.objects.filter(actor=user, action=Action.PASSWORD_CHANGED).count() == 1


@pytest.mark.django_db
def test_mfa_changes_are_audited_with_their_type(rf, user):
    from allauth.mfa import signals
    from allauth.mfa.models import Authenticator

    request = rf.get("/")
    authenticator = Authenticator(user=user, type=Authenticator.Type.TOTP)
    for signal in (signals.authenticator_added, signals.authenticator_removed):
        signal.send(sender=Authenticator, request=request, user=user,
                    authenticator=authenticator)

    events = list(AuditEvent.objects.filter(actor=user).order_by("id")
                  .values_list("action", "details"))
    assert events == [(Action.MFA_ADDED, {"type": "totp"}),
                      (Action.MFA_REMOVED, {"type": "totp"})]


@pytest.mark.django_db
def test_adding_an_email_address_is_audited(signed_in_client, user, password):
    signed_in_client.post(reverse("account_reauthenticate"), {"password": password})

    signed_in_client.post(reverse("account_email"), {"action_add": "", "email": "new@acme.test"})

    event = AuditEvent.objects.get(action=Action.EMAIL_ADDED)
    assert (event.actor, event.details) == (user, {"email": "new@acme.test"})
