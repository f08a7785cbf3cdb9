import smtplib

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection


@shared_task(
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=30, retry_backoff_max=3600, max_retries=8,
)
def send_email(payload: dict) -> None:
    """Send one serialized message with the delivery backend; retries temporary failures."""
    message = EmailMultiAlternatives(
        subject=payload["subject"],
        body=payload["body"],
        from_email=payload["from_email"],
        to=payload["to"],
        cc=payload.get("cc") or None,
        bcc=payload.get("bcc") or None,
        reply_to=payload.get("reply_to") or None,
        headers=payload.get("headers") or None,
        connection=get_connection(settings.PORTAL_EMAIL_DELIVERY_BACKEND),
    )
    for content, mimetype in payload.get("alternatives", []):
        message.attach_alternative(content, mimetype)
    message.send()
