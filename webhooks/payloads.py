"""What a delivery sends: the exact body bytes and the secrets that sign them.

The same body goes out on every attempt of a delivery; during a rotation's overlap the
previous secret signs too, so receivers that have not switched yet still verify."""

import json
from datetime import datetime

from django.conf import settings

from webhooks import signing
from webhooks.models import Endpoint, Event


def body_of(event: Event) -> bytes:
    """The exact bytes signed and sent, the same on every attempt."""
    return body(event.type, event.created_at, event.data, bool(event.endpoint_id))


def body(type_: str, created_at: datetime, data, test: bool) -> bytes:
    message = {"type": type_, "timestamp": created_at.isoformat().replace("+00:00", "Z"),
               "data": data}
    if test:
        message["test"] = True  # sent from the endpoint's page, not caused by a change
    return json.dumps(message, separators=(",", ":")).encode()


def live_secrets(endpoint: Endpoint, now: datetime) -> list[str]:
    """The current secret, and the previous one during its rotation overlap."""
    return secrets(endpoint.secret_encrypted, endpoint.previous_secret_encrypted,
                    endpoint.previous_secret_expires_at, now)


def secrets(current: str, previous: str, previous_expires_at: datetime | None,
             now: datetime) -> list[str]:
    keys = settings.WEBHOOK_SECRET_KEYS
    found = [signing.decrypt_secret(current, keys)]
    if previous and previous_expires_at and previous_expires_at > now:
        found.append(signing.decrypt_secret(previous, keys))
    return found
