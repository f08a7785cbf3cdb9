"""The production review as data: stages with their owners and fields, the plan
catalogue, the security questionnaire, the thresholds, and answer validation.

Pure: imports neither the ORM nor the request, and is tested by tables.
"""

from dataclasses import dataclass
from urllib.parse import urlsplit

from workspaces.roles import Role, capabilities_of

REQUIRED_ENDPOINTS = ("/v1/ping", "/v1/accounts", "/v1/transactions")
ERROR_RATE_LIMIT = 0.05
ERROR_RATE_DAYS = 7

SCREENSHOT_MAX_BYTES = 2 * 1024 * 1024
SCREENSHOT_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}
# Evidence a security owner may attach to the questionnaire (a policy, a pentest summary).
ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024
ATTACHMENT_TYPES = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}
# Files are uploaded beside the answers and stored privately, never inside them.
FILE_FIELDS = ("screenshot", "attachment")
NOTE_LIMIT = 500

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
# A "No" is explained in a few words, kept under the question's key plus "_why".
NOTES = {f"{key}_why": key for key, _ in QUESTIONS}


@dataclass(frozen=True)
class Stage:
    kind: str
    title: str
    # The stage's named owners, who the banner names first; empty when the portal submits.
    owner_roles: tuple[Role, ...]
    fields: tuple[str, ...]  # answers the owner gives; empty when the portal computes it
    checks: tuple[str, ...]  # evidence items the portal computes
    owner_too: bool = False  # an organization Owner may also fill it in and submit it
    # Who makes the portal's checks pass, for a stage nobody fills in.
    evidence_from: tuple[Role, ...] = ()
    # Capabilities (any one) that let a member read the stage's contents: answers, files,
    # checks, evidence, notes and decisions. The matrix's column the contents belong to.
    read_with: tuple[str, ...] = ()

    @property
    def submitters(self) -> tuple[Role, ...]:
        return (*self.owner_roles, Role.OWNER) if self.owner_too else self.owner_roles

    @property
    def by_portal(self) -> bool:
        return not self.owner_roles

    @property
    def owner_label(self) -> str:
        """Who fills it in, as the docs and the overview say it."""
        if self.by_portal:
            return "Nobody: the portal submits it from sandbox activity"
        return _either([role.label for role in self.submitters])

    @property
    def readers(self) -> tuple[Role, ...]:
        """The roles that may read the stage's contents, in the matrix's order."""
        return tuple(role for role in Role if capabilities_of([role]) & set(self.read_with))

    @property
    def readers_label(self) -> str:
        """Who reads the stage's contents, as the docs and the stage page say it."""
        return _either([role.label for role in self.readers])


def _either(labels: list[str]) -> str:
    return labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} or {labels[-1]}"


STAGES = (
    # Submitted by the consent review column's roles, who read it.
    Stage("consent", "Consent review", (Role.COMPLIANCE, Role.TECHNICAL_LEAD),
          ("scopes", "consent_duration", "revocation", "privacy_policy_url", "terms_url",
           "consent_screen", "screenshot"), (), owner_too=True,
          read_with=("review.submit",)),
    # The billing profile's legal name, address, tax ID and email: the billing column.
    Stage("billing", "Billing setup", (Role.BILLING_CONTACT,), ("plan",),
          ("billing_contact", "billing_profile"), owner_too=True, read_with=("billing.read",)),
    # Its key-age check names keys of both environments; compliance reviews it too.
    Stage("integration", "Integration verification", (), (),
          (*(f"endpoint:{e}" for e in REQUIRED_ENDPOINTS), "webhook_acknowledged",
           "error_rate", "key_age"), evidence_from=(Role.TECHNICAL_LEAD,),
          read_with=("production.read", "review.submit")),
    # The security questionnaire and who lacks two-factor authentication: audit readers.
    Stage("audit", "Audit-ready checks", (Role.SECURITY_OWNER,),
          (*(key for pair in QUESTIONS for key in (pair[0], f"{pair[0]}_why")), "attachment"),
          ("security_owner", "compliance_contact", "mfa", "mfa_required", "audit_exported"),
          read_with=("audit.read",)),
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
    "attachment": "Evidence file",
    **dict(QUESTIONS),
    **{note: f"Why not: {dict(QUESTIONS)[key]}" for note, key in NOTES.items()},
}


CHECK_LABELS = {
    "billing_contact": "Billing contact assigned", "billing_profile": "Billing profile complete",
    "webhook_acknowledged": "A webhook delivery acknowledged", "error_rate": "Error rate",
    "key_age": "Key age", "security_owner": "Security owner assigned",
    "compliance_contact": "Compliance contact assigned", "mfa": "Two-factor authentication",
    "mfa_required": "Two-factor authentication required for the organization",
    "audit_exported": "Audit log exported",
    **{f"endpoint:{e}": f"Successful call to {e}" for e in REQUIRED_ENDPOINTS},
}


def item_label(key: str) -> str:
    """The label of an answer or a check, as people read it (never a key like q04)."""
    return FIELD_LABELS.get(key) or CHECK_LABELS.get(key, key)


def owns(kind: str, roles) -> bool:
    """Whether a member with these roles may fill in and submit this stage."""
    return any(role in roles for role in BY_KIND[kind].submitters)


def may_read(kind: str, roles) -> bool:
    """Whether a member with these roles (in the workspace) may read the stage's answers,
    files, checks, evidence, notes and decisions; everyone else who may open the
    workspace sees only its title, status and owners."""
    return bool(capabilities_of(roles) & set(BY_KIND[kind].read_with))


def named_owner(kind: str, roles) -> bool:
    """Whether these roles include one of the stage's named owners (not just Owner)."""
    return any(role in roles for role in BY_KIND[kind].owner_roles)


def base_field(key: str) -> str:
    """The field a reviewer names for this answer: a "No"'s note belongs to its question."""
    return NOTES.get(key, key)


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
    **{note: _text(NOTE_LIMIT) for note in NOTES},
}


def _optional(kind: str, key: str, answers: dict, files: frozenset) -> bool:
    """Fields a complete stage may leave empty."""
    if key == "consent_screen":  # a screenshot or a description, one required
        return "screenshot" in files
    if key in NOTES:  # only a "No" needs its explanation
        return answers.get(NOTES[key]) != "no"
    return False


def answer_errors(kind: str, answers: dict, *, complete: bool,
                  files=frozenset()) -> dict[str, str]:
    """Errors by field; a draft may leave fields empty, a submission may not. `files`
    names the file fields that hold a file."""
    stage = BY_KIND[kind]
    errors = {key: "Not a field of this stage." for key in answers
              if key not in stage.fields or key in FILE_FIELDS}
    for key in stage.fields:
        if key in FILE_FIELDS:
            continue
        value = answers.get(key)
        if value in (None, "", {}) and (not complete
                                        or _optional(kind, key, answers, frozenset(files))):
            continue
        error = VALIDATORS[key](value)
        if error:
            errors[key] = (f"Say in a few words why not (under {NOTE_LIMIT} characters)."
                           if key in NOTES else error)
    if complete and kind == "consent" and "screenshot" not in files \
            and not answers.get("consent_screen"):
        errors["consent_screen"] = ("Describe the consent screen or upload a screenshot of "
                                    "it; one of the two is required.")
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


def attachment_type(head: bytes, size: int) -> str:
    """The MIME type of an evidence file from its first bytes; raises ValueError for
    anything but a PDF, PNG or JPEG under the size limit."""
    if size > ATTACHMENT_MAX_BYTES:
        raise ValueError("The evidence file must be under 5 MB.")
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    raise ValueError("Attach a PDF, PNG or JPEG file.")


def changed_fields(before: dict, after: dict, keys) -> list[str]:
    """The keys whose value differs between two snapshots."""
    return [key for key in keys if before.get(key) != after.get(key)]
