"""The account-access state: which sentence and which one next step /access/ shows.

Pure: it reads facts gathered elsewhere and imports neither the ORM nor the request.
"""

from dataclasses import dataclass
from enum import StrEnum


class AccessKey(StrEnum):
    VERIFY_EMAIL = "verify_email"
    NOT_ATTACHED = "not_attached"


@dataclass(frozen=True)
class AccessFacts:
    email: str
    email_verified: bool


@dataclass(frozen=True)
class NextStep:
    label: str
    url_name: str
    method: str = "get"


@dataclass(frozen=True)
class AccessState:
    key: AccessKey
    headline: str
    sentence: str
    step: NextStep


def access_state(facts: AccessFacts) -> AccessState:
    """Map what we know about a person to their access state and single next step."""
    if not facts.email_verified:
        return AccessState(
            key=AccessKey.VERIFY_EMAIL,
            headline="Verify your email",
            sentence=f"We sent a verification link to {facts.email}. "
            "Open it to continue; nothing else in the portal is available until then.",
            step=NextStep("Resend verification email", "access_resend_verification", "post"),
        )
    return AccessState(
        key=AccessKey.NOT_ATTACHED,
        headline="Not attached to an organization",
        sentence="Your account is ready but does not belong to an organization yet.",
        step=NextStep("Read how to get started", "docs:index"),
    )
