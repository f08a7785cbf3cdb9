"""An email backend that sends nothing itself: it queues a Celery task after commit.

Django, allauth and our services all call `send_mail`/`EmailMessage.send()`; routing
them here keeps a slow SMTP server out of the request and drops mail for work that
was rolled back.
"""

import logging

from django.core.mail import EmailMessage, send_mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.template.loader import render_to_string

log = logging.getLogger(__name__)


def serialize(message: EmailMessage) -> dict:
    return {
        "subject": message.subject,
        "body": message.body,
        "from_email": message.from_email,
        "to": list(message.to),
        "cc": list(message.cc),
        "bcc": list(message.bcc),
        "reply_to": list(message.reply_to),
        "headers": dict(message.extra_headers),
        "alternatives": [
            [content, mimetype] for content, mimetype in getattr(message, "alternatives", [])
        ],
    }


def enqueue(payload: dict) -> None:
    """Queue the send; with the broker down, send inline rather than lose the mail."""
    from accounts.tasks import send_email

    try:
        send_email.delay(payload)
    except Exception as error:  # kombu raises many types for an unreachable broker
        log.warning("could not queue an email (%s); sending it inline", error)
        send_email.apply(args=[payload], throw=False)


class CeleryEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        for message in email_messages:
            payload = serialize(message)
            transaction.on_commit(lambda payload=payload: enqueue(payload))
        return len(email_messages)


def send_templated(template: str, to: list[str], context: dict) -> None:
    """Render `{template}_subject.txt` and `{template}.txt` now and send them to `to`
    once the current transaction commits (through EMAIL_BACKEND, the Celery backend
    above); nothing is sent to an empty `to`."""
    if not to:
        return
    # One line: a newline in a subject is refused as header injection.
    subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
    send_mail(subject, render_to_string(f"{template}.txt", context), None, list(to))
