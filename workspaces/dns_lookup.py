"""TXT lookups for domain verification: the boundary to the outside DNS.

Bounded: one lookup gives up after DOMAIN_DNS_TIMEOUT seconds in all. "No record" (the
name or its TXT set does not exist) is an answer; a timeout or a failing server is not,
and callers must not treat it as one.
"""

import dns.exception
import dns.resolver
from django.conf import settings

MAX_RECORDS = 50


class DnsUnavailable(Exception):
    """DNS gave no usable answer in time; nothing can be concluded."""


def _resolver() -> dns.resolver.Resolver:
    nameservers = settings.DOMAIN_DNS_NAMESERVERS
    try:
        resolver = dns.resolver.Resolver(configure=not nameservers)
    except dns.resolver.NoResolverConfiguration as error:
        raise DnsUnavailable("No DNS resolver is configured on this server.") from error
    if nameservers:
        resolver.nameservers = list(nameservers)
        resolver.port = settings.DOMAIN_DNS_PORT
    resolver.lifetime = resolver.timeout = settings.DOMAIN_DNS_TIMEOUT
    return resolver


def txt_records(name: str) -> list[str]:
    """The TXT strings published at a name (each record's strings joined); [] when none."""
    try:
        answer = _resolver().resolve(name, "TXT", search=False, raise_on_no_answer=False)
    except dns.resolver.NXDOMAIN:
        return []
    except dns.exception.Timeout as error:
        raise DnsUnavailable("DNS did not answer in time.") from error
    except dns.exception.DNSException as error:
        raise DnsUnavailable("DNS could not answer the lookup.") from error
    if answer.rrset is None:
        return []
    return [b"".join(r.strings).decode("utf-8", "replace")
            for r in list(answer.rrset)[:MAX_RECORDS]]
