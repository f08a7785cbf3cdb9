"""Email domains: which may be claimed by an organization. Pure."""

# Mailbox providers anyone can sign up at: owning an address there proves nothing
# about belonging to a company.
CONSUMER_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com",
    "yahoo.com", "ymail.com", "icloud.com", "me.com", "mac.com", "aol.com", "proton.me",
    "protonmail.com", "pm.me", "gmx.com", "gmx.de", "gmx.net", "web.de", "mail.com",
    "yandex.com", "yandex.ru", "zoho.com", "fastmail.com", "hey.com", "tutanota.com",
    "qq.com", "163.com", "126.com", "mail.ru", "free.fr", "orange.fr", "laposte.net",
})


def domain_of(email: str) -> str:
    """The lower-cased domain part of an address."""
    return email.rpartition("@")[2].strip().lower().rstrip(".")


def is_claimable(domain: str) -> bool:
    """A company domain may be claimed; a consumer mailbox provider may not."""
    return "." in domain and domain not in CONSUMER_DOMAINS
