"""Refuse webhook URLs that would make our servers call themselves or private networks.

Pure: no ORM, no request. `check_url` judges the URL as typed; `resolve_and_check` judges
every address a name resolves to, and the caller connects to one of those checked
addresses (never re-resolving), so a DNS answer that changes between check and connect
(rebinding) cannot slip a private address through.

Address blocks are listed here rather than taken from `ipaddress`'s `is_private` and
`is_global`, whose answers changed between Python patch releases.
"""

import re
import socket
from collections.abc import Callable, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from typing import Any
from urllib.parse import urlsplit, urlunsplit

MAX_URL_LENGTH = 2048
ALLOWED_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}

# Names that resolve to the local host without asking DNS (RFC 6761, Debian's /etc/hosts).
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost",
                            "ip6-loopback"})

Resolver = Callable[..., Sequence[tuple[Any, ...]]]


class UnsafeURL(ValueError):
    """A URL or address we refuse to call; `code` is for programs, the message for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


# (network, code, description); the first match wins, so narrow blocks come first.
_V4_BLOCKS: tuple[tuple[IPv4Network, str, str], ...] = tuple(
    (IPv4Network(network), code, description)
    for network, code, description in (
        # Cloud instance metadata hands out credentials; never reachable, even in development.
        ("169.254.169.254/32", "METADATA_ADDRESS", "the cloud instance metadata service"),
        # Connecting to 0.0.0.0 reaches the local host on Linux, so it is never allowed.
        ("0.0.0.0/8", "RESERVED_ADDRESS", "an unspecified (\"this network\") address"),
        ("10.0.0.0/8", "PRIVATE_ADDRESS", "a private network address (10.0.0.0/8)"),
        ("100.64.0.0/10", "SHARED_ADDRESS",
         "a carrier-grade NAT shared address (100.64.0.0/10)"),
        ("127.0.0.0/8", "LOOPBACK_ADDRESS", "a loopback address (127.0.0.0/8)"),
        ("169.254.0.0/16", "LINK_LOCAL_ADDRESS", "a link-local address (169.254.0.0/16)"),
        ("172.16.0.0/12", "PRIVATE_ADDRESS", "a private network address (172.16.0.0/12)"),
        ("192.0.0.0/24", "RESERVED_ADDRESS",
         "reserved for IETF protocol assignments (192.0.0.0/24)"),
        ("192.0.2.0/24", "DOCUMENTATION_ADDRESS",
         "reserved for documentation (192.0.2.0/24)"),
        ("192.88.99.0/24", "RESERVED_ADDRESS", "a retired 6to4 relay address (192.88.99.0/24)"),
        ("192.168.0.0/16", "PRIVATE_ADDRESS", "a private network address (192.168.0.0/16)"),
        ("198.18.0.0/15", "DOCUMENTATION_ADDRESS", "reserved for benchmarking (198.18.0.0/15)"),
        ("198.51.100.0/24", "DOCUMENTATION_ADDRESS",
         "reserved for documentation (198.51.100.0/24)"),
        ("203.0.113.0/24", "DOCUMENTATION_ADDRESS",
         "reserved for documentation (203.0.113.0/24)"),
        ("224.0.0.0/4", "MULTICAST_ADDRESS", "a multicast address (224.0.0.0/4)"),
        ("255.255.255.255/32", "BROADCAST_ADDRESS", "the broadcast address"),
        ("240.0.0.0/4", "RESERVED_ADDRESS", "a reserved address (240.0.0.0/4)"),
    )
)

_V6_BLOCKS: tuple[tuple[IPv6Network, str, str], ...] = tuple(
    (IPv6Network(network), code, description)
    for network, code, description in (
        ("fd00:ec2::254/128", "METADATA_ADDRESS", "the cloud instance metadata service"),
        ("::/128", "RESERVED_ADDRESS", "the unspecified address (::)"),
        ("::1/128", "LOOPBACK_ADDRESS", "the loopback address (::1)"),
        ("64:ff9b:1::/48", "PRIVATE_ADDRESS", "a local-use NAT64 address (64:ff9b:1::/48)"),
        ("100::/64", "RESERVED_ADDRESS", "a discard-only address (100::/64)"),
        ("2001:db8::/32", "DOCUMENTATION_ADDRESS", "reserved for documentation (2001:db8::/32)"),
        ("2001:2::/48", "DOCUMENTATION_ADDRESS", "reserved for benchmarking (2001:2::/48)"),
        ("2001::/23", "RESERVED_ADDRESS",
         "reserved for IETF protocol assignments, such as Teredo (2001::/23)"),
        ("3fff::/20", "DOCUMENTATION_ADDRESS", "reserved for documentation (3fff::/20)"),
        ("fc00::/7", "PRIVATE_ADDRESS", "a unique local (private) address (fc00::/7)"),
        ("fe80::/10", "LINK_LOCAL_ADDRESS", "a link-local address (fe80::/10)"),
        ("fec0::/10", "PRIVATE_ADDRESS", "a site-local (private) address (fec0::/10)"),
        ("ff00::/8", "MULTICAST_ADDRESS", "a multicast address (ff00::/8)"),
    )
)

# Addresses carrying an IPv4 address in their low bits, judged by that IPv4 address.
_V4_MAPPED = IPv6Network("::ffff:0:0/96")
_V4_COMPATIBLE = IPv6Network("::/96")
_NAT64 = IPv6Network("64:ff9b::/96")
_SIX_TO_FOUR = IPv6Network("2002::/16")
# Everything routable on the IPv6 internet today lies in 2000::/3.
_GLOBAL_UNICAST = IPv6Network("2000::/3")

_NUMBER_PART = re.compile(r"0[xX][0-9a-fA-F]*|[0-9]+")
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_FORBIDDEN_URL_CHARS = re.compile(r"[\x00-\x20\x7f\\]")


def _refuse(host: str, code: str, description: str) -> UnsafeURL:
    return UnsafeURL(code, f"{host} is {description}; webhooks can only be delivered to "
                           "addresses on the public internet.")


def _check_v4(address: IPv4Address, *, allow_loopback: bool, shown: str) -> None:
    for network, code, description in _V4_BLOCKS:
        if address in network:
            if code == "LOOPBACK_ADDRESS" and allow_loopback:
                return
            raise _refuse(shown, code, description)


def _check_v6(address: IPv6Address, *, allow_loopback: bool, shown: str) -> None:
    if address.scope_id:
        # Judge the address itself first, so fe80::1%eth0 is refused as link-local.
        _check_v6(IPv6Address(int(address)), allow_loopback=allow_loopback, shown=shown)
        raise UnsafeURL("INVALID_HOST", f"{shown} has an IPv6 zone identifier, which only "
                                        "makes sense on the local network.")
    if address in _V4_MAPPED:
        # A dual-stack socket connects to the mapped IPv4 address itself, loopback included.
        _check_v4(_low_ipv4(address), allow_loopback=allow_loopback, shown=shown)
        return
    for network, code, description in _V6_BLOCKS:
        if address in network:
            if code == "LOOPBACK_ADDRESS" and allow_loopback:
                return
            raise _refuse(shown, code, description)
    if address in _V4_COMPATIBLE:
        # Deprecated (RFC 4291); nothing legitimate uses it, whatever the IPv4 part.
        _check_v4(_low_ipv4(address), allow_loopback=False, shown=shown)
        raise _refuse(shown, "RESERVED_ADDRESS", "a deprecated IPv4-compatible address (::/96)")
    if address in _NAT64:
        # Translated by a gateway, not this host: even 127.0.0.1 there is not our loopback.
        _check_v4(_low_ipv4(address), allow_loopback=False, shown=shown)
        return
    if address in _SIX_TO_FOUR:
        # 2002:AABB:CCDD::/48 is routed through relays to the IPv4 host AA.BB.CC.DD.
        embedded = IPv4Address((int(address) >> 80) & 0xFFFFFFFF)
        _check_v4(embedded, allow_loopback=False, shown=shown)
        return
    if address not in _GLOBAL_UNICAST:
        raise _refuse(shown, "RESERVED_ADDRESS", "outside the global unicast range (2000::/3)")


def _low_ipv4(address: IPv6Address) -> IPv4Address:
    return IPv4Address(int(address) & 0xFFFFFFFF)


def check_address(address: IPv4Address | IPv6Address, *, allow_loopback: bool,
                  shown: str | None = None) -> None:
    """Raise UnsafeURL unless the address is one we may deliver webhooks to."""
    shown = shown or str(address)
    if isinstance(address, IPv4Address):
        _check_v4(address, allow_loopback=allow_loopback, shown=shown)
    else:
        _check_v6(address, allow_loopback=allow_loopback, shown=shown)


def _legacy_number(part: str) -> int | None:
    # inet_aton reads 0x.. as hex and a leading 0 as octal, as C's strtoul does.
    if not _NUMBER_PART.fullmatch(part):
        return None
    if part[:2].lower() == "0x":
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        return int(part, 8) if set(part) <= set("01234567") else None
    return int(part)


def parse_legacy_ipv4(host: str) -> IPv4Address | None:
    """The IPv4 address a resolver reads in `host` (inet_aton forms), or None for a name.

    Resolvers accept `2130706433`, `0177.0.0.1`, `0x7f.1` and `127.1` as 127.0.0.1, and
    `ipaddress` rejects them all, so a check using `ipaddress` alone would take them for
    names. A host whose last label is numeric but is no valid address raises UnsafeURL, as
    browsers do (WHATWG URL), rather than being passed to DNS.
    """
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()  # a trailing dot roots the name; "127.0.0.1." still means 127.0.0.1
    if not parts or not _NUMBER_PART.fullmatch(parts[-1]):
        return None
    values = [_legacy_number(part) for part in parts]
    if None in values or len(values) > 4:
        raise UnsafeURL("INVALID_HOST", f"{host} looks like an IP address but is not a valid "
                                        "one.")
    *leading, last = [value for value in values if value is not None]
    # Short forms: the last number fills all the bytes the earlier ones leave.
    if any(value > 255 for value in leading) or last >= 256 ** (4 - len(leading)):
        raise UnsafeURL("INVALID_HOST", f"{host} looks like an IP address but is out of range.")
    number = last
    for index, value in enumerate(leading):
        number |= value << (8 * (3 - index))
    return IPv4Address(number)


def _literal_address(host: str) -> IPv4Address | IPv6Address | None:
    if ":" in host:
        try:
            return ip_address(host)
        except ValueError as error:
            raise UnsafeURL("INVALID_HOST", f"{host} is not a valid IPv6 address.") from error
    return parse_legacy_ipv4(host)


def _ascii_host(host: str) -> str:
    if host.isascii():
        return host.lower()
    try:
        # The IDNA codec folds full-width digits and ideographic dots into ASCII, as
        # resolvers and browsers do, so a disguised "127.0.0.1" is checked as one.
        return host.encode("idna").decode("ascii").lower()
    except UnicodeError as error:
        raise UnsafeURL("INVALID_HOST", f"{host} is not a valid host name.") from error


def _check_name(host: str, *, allow_loopback: bool) -> None:
    name = host[:-1] if host.endswith(".") else host
    if len(name) > 253 or not all(_LABEL.fullmatch(label) for label in name.split(".")):
        raise UnsafeURL("INVALID_HOST", f"{host} is not a valid host name.")
    if (name in LOOPBACK_NAMES or name.endswith(".localhost")) and not allow_loopback:
        raise _refuse(host, "LOOPBACK_ADDRESS", "the local host")


def check_host(host: str, *, allow_loopback: bool) -> str:
    """The host in canonical form (IPv6 without brackets), or UnsafeURL if we refuse it."""
    host = _ascii_host(host)
    address = _literal_address(host)
    if address is None:
        _check_name(host, allow_loopback=allow_loopback)
        return host
    check_address(address, allow_loopback=allow_loopback, shown=host)
    return str(address)


def check_url(url: str, *, require_https: bool, allow_loopback: bool) -> str:
    """The normalised URL, or UnsafeURL saying why we will not deliver webhooks to it."""
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeURL("INVALID_URL", f"The URL is longer than {MAX_URL_LENGTH} characters.")
    # urlsplit silently drops tabs and newlines and reads a backslash differently than
    # browsers do; refusing them keeps one reading of the URL everywhere.
    if _FORBIDDEN_URL_CHARS.search(url):
        raise UnsafeURL("INVALID_URL", "The URL contains spaces, control characters or "
                                       "backslashes.")
    try:
        parts = urlsplit(url)
    except ValueError as error:
        raise UnsafeURL("INVALID_URL", f"The URL cannot be read: {error}.") from error
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        expected = "https://" if require_https else "https:// or http://"
        raise UnsafeURL("UNSUPPORTED_SCHEME", f"A webhook URL starts with {expected}.")
    if scheme != "https" and require_https:
        raise UnsafeURL("HTTPS_REQUIRED", "Webhook URLs must use https://.")
    if "@" in parts.netloc:
        raise UnsafeURL("CREDENTIALS_IN_URL", "A webhook URL may not contain a user name or "
                                              "password; verify requests with the signature.")
    if not parts.hostname:
        raise UnsafeURL("MISSING_HOST", "The URL has no host name.")
    try:
        port = parts.port
    except ValueError:
        port = 0  # not a number, or past 65535: the same answer as port 0
    if port is not None and not 1 <= port <= 65535:
        raise UnsafeURL("INVALID_PORT", "The port must be a number between 1 and 65535.")
    host = check_host(parts.hostname, allow_loopback=allow_loopback)
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    # The fragment is never sent over HTTP, so it is dropped rather than stored.
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def resolve_and_check(host: str, port: int, *, allow_loopback: bool,
                      resolver: Resolver = socket.getaddrinfo) -> list[str]:
    """Every address `host` resolves to, all checked; connect only to one of these."""
    host = check_host(host.strip("[]"), allow_loopback=allow_loopback)
    if _literal_address(host) is not None:
        return [host]
    try:
        answers = resolver(host, port, 0, socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise UnsafeURL("UNRESOLVABLE_HOST", f"{host} could not be resolved.") from error
    addresses: list[str] = []
    for *_, sockaddr in answers:
        text = str(sockaddr[0])
        try:
            address = ip_address(text)
        except ValueError as error:
            raise UnsafeURL("UNRESOLVABLE_HOST",
                            f"{host} resolved to {text}, which is not an address.") from error
        # One private answer refuses the whole name: the resolver's order is not ours to
        # pick from, and a name that mixes answers is exactly what rebinding looks like.
        check_address(address, allow_loopback=allow_loopback, shown=f"{host} ({address})")
        if str(address) not in addresses:
            addresses.append(str(address))
    if not addresses:
        raise UnsafeURL("UNRESOLVABLE_HOST", f"{host} did not resolve to any address.")
    return addresses
