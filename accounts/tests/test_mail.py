import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives, send_mail
from django.db import transaction

from accounts.mail import send_templated, serialize
from accounts.tasks import send_email


def test_serialized_message_round_trips_through_the_task():
    message = EmailMultiAlternatives(
        "Subject", "Body", "from@example.com", ["to@example.com"], reply_to=["r@example.com"]
    )
    message.attach_alternative("<p>Body</p>", "text/html")

    send_email(serialize(message))

    sent = mail.outbox[0]
    assert (sent.subject, sent.body, sent.to, sent.reply_to) == (
        "Subject", "Body", ["to@example.com"], ["r@example.com"]
    )
    assert sent.alternatives[0][0] == "<p>Body</p>"


@pytest.mark.django_db(transaction=True)
def test_mail_is_sent_only_after_the_transaction_commits():
    with transaction.atomic():
        send_mail("Hello", "Body", None, ["a@example.com"])
        assert mail.outbox == []

    assert [m.subject for m in mail.outbox] == ["Hello"]


@pytest.mark.django_db(transaction=True)
def test_mail_of_a_rolled_back_transaction_is_never_sent():
    with pytest.raises(RuntimeError), transaction.atomic():
        send_mail("Hello", "Body", None, ["a@example.com"])
        raise RuntimeError("boom")

    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_a_templated_mail_is_rendered_and_sent_after_commit():
    context = {"organization": "Acme\nInc", "approved": False,
               "join_request": {"reason": "We only take staff."},
               "url": "https://portal.example/access/"}

    with transaction.atomic():
        send_templated("workspaces/email/join_decided", ["a@example.com"], context)
        assert mail.outbox == []

    sent = mail.outbox[0]
    # A newline from the context is folded: a subject is one line.
    assert sent.subject == "Your request to join Acme Inc was declined"
    assert "Reason: We only take staff." in sent.body
    assert "https://portal.example/access/" in sent.body
    assert sent.to == ["a@example.com"]


@pytest.mark.django_db(transaction=True)
def test_a_templated_mail_to_nobody_is_not_sent():
    with transaction.atomic():
        send_templated("workspaces/email/join_decided", [], {"organization": "Acme"})

    assert mail.outbox == []
