"""make run's email backend prints a message as a person reads it."""

import io

from django.core.mail import EmailMultiAlternatives

from portal.devmail import ReadableConsoleBackend


def test_an_email_shows_its_recipient_subject_and_link_without_mime_headers():
    stream = io.StringIO()
    message = EmailMultiAlternatives(
        subject="[Developer portal] Confirm your email address",
        body="Open this link to confirm:\nhttp://127.0.0.1:8000/accounts/confirm-email/abc/\n",
        from_email="portal@localhost", to=["new@example.com"])
    message.attach_alternative("<p>html</p>", "text/html")

    sent = ReadableConsoleBackend(stream=stream).send_messages([message])

    assert sent == 1
    lines = stream.getvalue().splitlines()
    assert lines[1:6] == [
        "EMAIL to new@example.com",
        "Subject: [Developer portal] Confirm your email address",
        "",
        "Open this link to confirm:",
        "http://127.0.0.1:8000/accounts/confirm-email/abc/",
    ]
    assert "Content-Type" not in stream.getvalue()
