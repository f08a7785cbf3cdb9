"""The production review as data: stages with their owners and fields, the plan
catalogue, the security questionnaire, the thresholds, and answer validation.

Pure: imports neither the ORM nor the request, and is tested by tables.
"""

from dataclasses import dataclass
from urllib.parse import urlsplit

from workspaces.roles import Role

REQUIRED_ENDPOINTS = ("/v1/ping", "/v1/accounts", "/v1/transactions")
ERROR_RATE_LIMIT = 0.05
ERROR_RATE_DAYS = 7

SCREENSHOT_MAX_BYTES = 2 * 1024 * 1024
SCREENSHOT_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}

DATA_SCOPES = {
    "accounts:read": "Account details (names, numbers, balances)",
    "transactions:read": "Transaction history",
}
CONSENT_DURATIONS = {"90": "90 days", "180": "180 days", "365": "One year",
                     "until_revoked": "Until the end user revokes it"}


@dataclass(frozen=True)
class Plan:
    key: str
    name: str
    price: str
    included_calls: int


PLANS = (
    Plan("starter", "Starter", "€0 / month", 10_000),
    Plan("growth", "Growth", "€490 / month", 500_000),
    Plan("scale", "Scale", "€1,900 / month", 5_000_000),
)
PLAN_KEYS = {plan.key: plan for plan in PLANS}

QUESTIONS = (
    ("q01", "Do you encrypt data from our API at rest?"),
    ("q02", "Is all traffic to and from your service encrypted in transit (TLS 1.2+)?"),
    ("q03", "Are API keys kept in a secrets manager rather than source code?"),
    ("q04", "Do you rotate API keys at least every 90 days?"),
    ("q05", "Is access to production data limited to named people who need it?"),
    ("q06", "Do all staff with production access use two-factor authentication?"),
    ("q07", "Do you keep an access log for production systems for at least a year?"),
    ("q08", "Do you verify webhook signatures before acting on an event?"),
    ("q09", "Do you have a written incident response plan?"),
    ("q10", "Would you tell us about a breach affecting our data within 72 hours?"),
    ("q11", "Do you delete end users' data when they revoke consent?"),
    ("q12", "Do you run vulnerability scans or penetration tests at least yearly?"),
    ("q13", "Are your dependencies patched for known vulnerabilities within 30 days?"),
    ("q14", "Are backups encrypted and restores tested?"),
    ("q15", "Do subprocessors handling our data sign a data processing agreement?"),
)
ANSWERS = {"yes": "Yes", "no": "No", "not_applicable": "Not applicable"}
ANSWER_KEYS = frozenset(key for key, _ in QUESTIONS)


@dataclass(frozen=True)
class Stage:
    kind: str
    title: str
    owner_roles: tuple[Role, ...]
    fields: tuple[str, ...]  # answers the owner gives; empty when the portal computes it
    checks: tuple[str, ...]  # evidence items the portal computes


STAGES = (
    Stage("consent", "Consent review", (Role.COMPLIANCE, Role.TECHNICAL_LEAD),
          ("scopes", "consent_duration", "revocation", "privacy_policy_url", "terms_url",
           "consent_screen", "screenshot"), ()),
    Stage("billing", "Billing setup", (Role.BILLING_CONTACT,), ("plan",),
          ("billing_contact", "billing_profile")),
    Stage("integration", "Integration verification", (Role.TECHNICAL_LEAD,), (),
          (*(f"endpoint:{e}" for e in REQUIRED_ENDPOINTS), "webhook_acknowledged",
           "error_rate", "key_age")),
    Stage("audit", "Audit-ready checks", (Role.SECURITY_OWNER,),
          tuple(key for key, _ in QUESTIONS),
          ("security_owner", "compliance_contact", "mfa", "audit_exported")),
)
BY_KIND = {stage.kind: stage for stage in STAGES}

FIELD_LABELS = {
    "scopes": "Data scopes and their purposes",
    "consent_duration": "Consent duration",
    "revocation": "How end users revoke consent",
    "privacy_policy_url": "Privacy policy URL",
    "terms_url": "Terms URL",
    "consent_screen": "Consent screen description",
    "screenshot": "Consent screen screenshot",
    "plan": "Plan",
    **dict(QUESTIONS),
}


def owns(kind: str, roles) -> bool:
    """Whether a member with these roles may fill in and submit this stage."""
    return any(role in roles for role in BY_KIND[kind].owner_roles)


def _https_url(value) -> str | None:
    if not isinstance(value, str) or len(value) > 500:
        return "Enter a URL."
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname or "." not in parts.hostname:
        return "Enter a public https:// URL."
    return None


def _text(limit: int):
    def check(value) -> str | None:
        if not isinstance(value, str) or not value.strip():
            return "This answer is required."
        return f"Keep it under {limit} characters." if len(value) > limit else None
    return check


def _scopes(value) -> str | None:
    if not isinstance(value, dict) or not value:
        return "Request at least one data scope and say what you use it for."
    for scope, purpose in value.items():
        if scope not in DATA_SCOPES:
            return f"Unknown scope {scope}."
        if not isinstance(purpose, str) or not purpose.strip() or len(purpose) > 500:
            return f"Say in under 500 characters why you need {scope}."
    return None


def _choice(options):
    def check(value) -> str | None:
        return None if value in options else "Choose one of the options."
    return check


VALIDATORS = {
    "scopes": _scopes,
    "consent_duration": _choice(CONSENT_DURATIONS),
    "revocation": _text(2000),
    "privacy_policy_url": _https_url,
    "terms_url": _https_url,
    "consent_screen": _text(2000),
    "plan": _choice(PLAN_KEYS),
    **{key: _choice(ANSWERS) for key, _ in QUESTIONS},
}


def answer_errors(kind: str, answers: dict, *, complete: bool) -> dict[str, str]:
    """Errors by field; a draft may leave fields empty, a submission may not."""
    stage = BY_KIND[kind]
    errors = {key: "Not a field of this stage." for key in answers
              if key not in stage.fields or key == "screenshot"}
    for key in stage.fields:
        if key == "screenshot":
            continue
        value = answers.get(key)
        if value in (None, "", {}) and not complete:
            continue
        error = VALIDATORS[key](value)
        if error:
            errors[key] = error
    return errors


def screenshot_type(head: bytes, size: int) -> str:
    """The MIME type of an uploaded screenshot from its first bytes; raises ValueError
    for anything but a PNG, JPEG or WebP image under the size limit."""
    if size > SCREENSHOT_MAX_BYTES:
        raise ValueError("The screenshot must be under 2 MB.")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    raise ValueError("Upload a PNG, JPEG or WebP image.")


def changed_fields(before: dict, after: dict, keys) -> list[str]:
    """The keys whose value differs between two snapshots."""
    return [key for key in keys if before.get(key) != after.get(key)]
