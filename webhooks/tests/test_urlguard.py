import socket

import pytest

from webhooks.urlguard import UnsafeURL, check_url, parse_legacy_ipv4, resolve_and_check

OK = None  # the URL is accepted


def fullwidth(text: str) -> str:
    """The text in full-width forms, with ideographic full stops for dots."""
    return "".join("\u3002" if c == "." else chr(ord(c) + 0xFEE0) for c in text)


# (url, require_https, allow_loopback, expected error code or OK)
TABLE = [
    # public addresses and names
    ("https://93.184.216.34/", True, False, OK),
    ("https://[2606:4700::1111]/", True, False, OK),
    ("https://hooks.example.com/stripe?x=1", True, False, OK),
    ("https://hooks.example.com./", True, False, OK),
    ("https://1.1.1.1:8443/", True, False, OK),
    ("https://[64:ff9b::5db8:d822]/", True, False, OK),  # NAT64 of 93.184.216.34
    ("https://[2002:5db8:d822::1]/", True, False, OK),  # 6to4 of 93.184.216.34
    ("https://[::ffff:93.184.216.34]/", True, False, OK),
    ("https://bücher.example/", True, False, OK),
    # scheme, credentials, host, port
    ("http://93.184.216.34/", True, False, "HTTPS_REQUIRED"),
    ("http://93.184.216.34/", False, False, OK),
    ("ftp://example.com/", False, False, "UNSUPPORTED_SCHEME"),
    ("file:///etc/passwd", False, True, "UNSUPPORTED_SCHEME"),
    ("gopher://127.0.0.1:6379/", False, True, "UNSUPPORTED_SCHEME"),
    ("example.com/hook", False, False, "UNSUPPORTED_SCHEME"),
    ("//example.com/hook", False, False, "UNSUPPORTED_SCHEME"),
    ("https://user:pass@example.com/", True, False, "CREDENTIALS_IN_URL"),
    ("https://example.com@127.0.0.1/", True, True, "CREDENTIALS_IN_URL"),
    ("https://@example.com/", True, False, "CREDENTIALS_IN_URL"),
    ("https:///path", True, False, "MISSING_HOST"),
    ("https://:443/", True, False, "MISSING_HOST"),
    ("https://example.com:0/", True, False, "INVALID_PORT"),
    ("https://example.com:65536/", True, False, "INVALID_PORT"),
    ("https://example.com:http/", True, False, "INVALID_PORT"),
    ("https://example.com:65535/", True, False, OK),
    ("https://exa mple.com/", True, False, "INVALID_URL"),
    ("https://example.com/\thook", True, False, "INVALID_URL"),
    ("https://evil.com\\@127.0.0.1/", True, True, "INVALID_URL"),
    ("https://[::1/", True, True, "INVALID_URL"),
    ("https://" + "a" * 2048 + ".com/", True, False, "INVALID_URL"),
    ("https://exa_mple.com/", True, False, OK),
    ("https://-example.com/", True, False, "INVALID_HOST"),
    ("https://%31%32%37.0.0.1/", True, True, "INVALID_HOST"),
    ("https://a..b/", True, False, "INVALID_HOST"),
    # loopback, in every spelling a resolver accepts
    ("http://127.0.0.1/", False, False, "LOOPBACK_ADDRESS"),
    ("http://127.0.0.1/", False, True, OK),
    ("http://127.255.255.254/", False, False, "LOOPBACK_ADDRESS"),
    ("http://2130706433/", False, False, "LOOPBACK_ADDRESS"),
    ("http://0177.0.0.1/", False, False, "LOOPBACK_ADDRESS"),
    ("http://0x7f.0.0.1/", False, False, "LOOPBACK_ADDRESS"),
    ("http://0X7F.0X0.0X0.0X1/", False, False, "LOOPBACK_ADDRESS"),
    ("http://0x7f000001/", False, False, "LOOPBACK_ADDRESS"),
    ("http://017700000001/", False, False, "LOOPBACK_ADDRESS"),
    ("http://127.1/", False, False, "LOOPBACK_ADDRESS"),
    ("http://127.0.1/", False, False, "LOOPBACK_ADDRESS"),
    ("http://127.0.0.1./", False, False, "LOOPBACK_ADDRESS"),
    ("http://[::1]/", False, False, "LOOPBACK_ADDRESS"),
    ("http://[::1]/", False, True, OK),
    ("http://[0:0:0:0:0:0:0:1]/", False, False, "LOOPBACK_ADDRESS"),
    ("http://[::ffff:127.0.0.1]/", False, False, "LOOPBACK_ADDRESS"),
    ("http://[::ffff:7f00:1]/", False, False, "LOOPBACK_ADDRESS"),
    ("http://[::ffff:127.0.0.1]/", False, True, OK),
    ("http://localhost/", False, False, "LOOPBACK_ADDRESS"),
    ("http://LOCALHOST:8000/", False, False, "LOOPBACK_ADDRESS"),
    ("http://localhost./", False, False, "LOOPBACK_ADDRESS"),
    ("http://api.localhost/", False, False, "LOOPBACK_ADDRESS"),
    ("http://api.localhost./", False, False, "LOOPBACK_ADDRESS"),
    ("http://ip6-localhost/", False, False, "LOOPBACK_ADDRESS"),
    (f"http://{fullwidth('localhost')}/", False, False, "LOOPBACK_ADDRESS"),
    (f"http://{fullwidth('127.0.0.1')}/", False, False, "LOOPBACK_ADDRESS"),
    ("http://localhost:8000/hooks", False, True, OK),
    ("http://localhost.example.com/", False, False, OK),
    # loopback through a translator is not our loopback, so allow_loopback does not apply
    ("http://[::127.0.0.1]/", False, True, "LOOPBACK_ADDRESS"),
    ("http://[64:ff9b::127.0.0.1]/", False, True, "LOOPBACK_ADDRESS"),
    ("http://[2002:7f00:1::]/", False, True, "LOOPBACK_ADDRESS"),
    # numeric hosts that are no address are refused, not sent to DNS
    ("http://256.0.0.1/", False, False, "INVALID_HOST"),
    ("http://1.2.3.4.5/", False, False, "INVALID_HOST"),
    ("http://0189.0.0.1/", False, False, "INVALID_HOST"),
    ("http://4294967296/", False, False, "INVALID_HOST"),
    ("http://127.16777216/", False, False, "INVALID_HOST"),
    ("http://example.123/", False, False, "INVALID_HOST"),
    ("http://[fe80::1%25eth0]/", False, True, "LINK_LOCAL_ADDRESS"),
    ("http://[2606:4700::1111%25eth0]/", False, True, "INVALID_HOST"),
    # private networks
    ("https://10.0.0.1/", True, True, "PRIVATE_ADDRESS"),
    ("https://10.255.255.255/", True, False, "PRIVATE_ADDRESS"),
    ("https://012.1/", True, False, "PRIVATE_ADDRESS"),  # octal 10.0.0.1
    ("https://167772161/", True, False, "PRIVATE_ADDRESS"),  # 10.0.0.1
    ("https://172.16.0.1/", True, False, "PRIVATE_ADDRESS"),
    ("https://172.31.255.255/", True, False, "PRIVATE_ADDRESS"),
    ("https://172.32.0.1/", True, False, OK),
    ("https://172.15.255.255/", True, False, OK),
    ("https://192.168.1.1/", True, True, "PRIVATE_ADDRESS"),
    ("https://0xc0a80101/", True, False, "PRIVATE_ADDRESS"),
    ("https://[::ffff:192.168.1.1]/", True, False, "PRIVATE_ADDRESS"),
    ("https://[fc00::1]/", True, False, "PRIVATE_ADDRESS"),
    ("https://[fd12:3456::1]/", True, True, "PRIVATE_ADDRESS"),
    ("https://[fec0::1]/", True, False, "PRIVATE_ADDRESS"),
    ("https://[64:ff9b:1::a00:1]/", True, False, "PRIVATE_ADDRESS"),
    ("https://[64:ff9b::10.0.0.1]/", True, False, "PRIVATE_ADDRESS"),
    ("https://[2002:c0a8:101::1]/", True, False, "PRIVATE_ADDRESS"),  # 6to4 of 192.168.1.1
    ("https://[::10.0.0.1]/", True, False, "PRIVATE_ADDRESS"),  # IPv4-compatible
    ("https://[::93.184.216.34]/", True, False, "RESERVED_ADDRESS"),
    # link-local and cloud metadata (metadata stays blocked with loopback allowed)
    ("https://169.254.1.1/", True, False, "LINK_LOCAL_ADDRESS"),
    ("https://[fe80::1]/", True, False, "LINK_LOCAL_ADDRESS"),
    ("http://169.254.169.254/latest/meta-data/", False, True, "METADATA_ADDRESS"),
    ("http://2852039166/", False, True, "METADATA_ADDRESS"),
    ("http://0xa9.0xfe.0xa9.0xfe/", False, True, "METADATA_ADDRESS"),
    ("http://[::ffff:169.254.169.254]/", False, True, "METADATA_ADDRESS"),
    ("http://[64:ff9b::a9fe:a9fe]/", False, True, "METADATA_ADDRESS"),
    ("http://[fd00:ec2::254]/", False, True, "METADATA_ADDRESS"),
    # shared, multicast, reserved, broadcast, documentation, benchmarking
    ("https://100.64.0.1/", True, False, "SHARED_ADDRESS"),
    ("https://100.127.255.255/", True, False, "SHARED_ADDRESS"),
    ("https://100.128.0.1/", True, False, OK),
    ("https://224.0.0.1/", True, False, "MULTICAST_ADDRESS"),
    ("https://239.255.255.250/", True, False, "MULTICAST_ADDRESS"),
    ("https://[ff02::1]/", True, False, "MULTICAST_ADDRESS"),
    ("http://0.0.0.0/", False, True, "RESERVED_ADDRESS"),
    ("http://0/", False, True, "RESERVED_ADDRESS"),
    ("http://0x/", False, True, "RESERVED_ADDRESS"),  # as browsers read it
    ("http://[::]/", False, True, "RESERVED_ADDRESS"),
    ("https://240.0.0.1/", True, False, "RESERVED_ADDRESS"),
    ("https://192.0.0.192/", True, False, "RESERVED_ADDRESS"),
    ("https://[100::1]/", True, False, "RESERVED_ADDRESS"),
    ("https://[2001::1]/", True, False, "RESERVED_ADDRESS"),  # Teredo
    ("https://[4000::1]/", True, False, "RESERVED_ADDRESS"),
    ("https://255.255.255.255/", True, False, "BROADCAST_ADDRESS"),
    ("https://192.0.2.10/", True, False, "DOCUMENTATION_ADDRESS"),
    ("https://198.51.100.10/", True, False, "DOCUMENTATION_ADDRESS"),
    ("https://203.0.113.10/", True, False, "DOCUMENTATION_ADDRESS"),
    ("https://198.18.0.1/", True, False, "DOCUMENTATION_ADDRESS"),
    ("https://198.19.255.255/", True, False, "DOCUMENTATION_ADDRESS"),
    ("https://[2001:db8::1]/", True, False, "DOCUMENTATION_ADDRESS"),
    ("https://[2002:c000:20a::]/", True, False, "DOCUMENTATION_ADDRESS"),  # 6to4 of 192.0.2.10
]


@pytest.mark.parametrize(("url", "require_https", "allow_loopback", "expected"), TABLE)
def test_check_url_table(url, require_https, allow_loopback, expected):
    if expected is OK:
        check_url(url, require_https=require_https, allow_loopback=allow_loopback)
        return
    with pytest.raises(UnsafeURL) as refused:
        check_url(url, require_https=require_https, allow_loopback=allow_loopback)
    assert refused.value.code == expected
    assert refused.value.message.endswith(".")


@pytest.mark.parametrize(
    ("url", "allow_loopback", "normalised"),
    [
        ("HTTPS://Hooks.Example.COM/in?a=1#frag", False, "https://hooks.example.com/in?a=1"),
        ("https://hooks.example.com", False, "https://hooks.example.com/"),
        ("https://hooks.example.com:443/x", False, "https://hooks.example.com/x"),
        ("https://hooks.example.com:8443/x", False, "https://hooks.example.com:8443/x"),
        ("https://bücher.example/", False, "https://xn--bcher-kva.example/"),
        ("https://[2606:4700:0:0:0:0:0:1111]/", False, "https://[2606:4700::1111]/"),
        ("http://127.1:8000/hooks", True, "http://127.0.0.1:8000/hooks"),
        ("http://0x7f.0.0.1/", True, "http://127.0.0.1/"),
    ],
)
def test_check_url_returns_the_normalised_url(url, allow_loopback, normalised):
    assert check_url(url, require_https=False, allow_loopback=allow_loopback) == normalised


def test_refusal_explains_itself_to_a_person():
    with pytest.raises(UnsafeURL) as refused:
        check_url("https://192.168.1.1/", require_https=True, allow_loopback=False)

    assert str(refused.value) == (
        "192.168.1.1 is a private network address (192.168.0.0/16); webhooks can only be "
        "delivered to addresses on the public internet.")


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0x7f.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("10.1.2", "10.1.0.2"),
        ("93.184.216.34.", "93.184.216.34"),
        ("example.com", None),
        ("0x7f.example", None),
    ],
)
def test_parse_legacy_ipv4_reads_what_inet_aton_reads(host, address):
    parsed = parse_legacy_ipv4(host)

    assert (None if parsed is None else str(parsed)) == address
    if address is not None and not host.endswith("."):
        assert socket.inet_ntoa(socket.inet_aton(host)) == address


def fake_resolver(*answers: str):
    """A getaddrinfo stand-in answering with the given addresses."""
    calls = []

    def resolve(host, port, *args, **kwargs):
        calls.append((host, port))
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
             (a, port, 0, 0) if ":" in a else (a, port))
            for a in answers
        ]

    resolve.calls = calls
    return resolve


def failing_resolver(host, port, *args, **kwargs):
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def test_resolve_and_check_returns_every_public_address():
    resolver = fake_resolver("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946",
                             "93.184.216.34")

    addresses = resolve_and_check("hooks.example.com", 443, allow_loopback=False,
                                  resolver=resolver)

    assert addresses == ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]
    assert resolver.calls == [("hooks.example.com", 443)]


@pytest.mark.parametrize(
    ("answers", "allow_loopback", "code"),
    [
        (("93.184.216.34", "10.0.0.5"), False, "PRIVATE_ADDRESS"),
        (("10.0.0.5", "93.184.216.34"), True, "PRIVATE_ADDRESS"),
        (("93.184.216.34", "127.0.0.1"), False, "LOOPBACK_ADDRESS"),
        (("2606:4700::1111", "::ffff:169.254.169.254"), True, "METADATA_ADDRESS"),
        (("93.184.216.34", "fe80::1%eth0"), False, "LINK_LOCAL_ADDRESS"),
        ((), False, "UNRESOLVABLE_HOST"),
    ],
)
def test_resolve_and_check_refuses_if_any_answer_is_blocked_or_none_came(
    answers, allow_loopback, code
):
    with pytest.raises(UnsafeURL) as refused:
        resolve_and_check("rebind.example.com", 443, allow_loopback=allow_loopback,
                          resolver=fake_resolver(*answers))

    assert refused.value.code == code


def test_resolve_and_check_refuses_a_name_that_does_not_resolve():
    with pytest.raises(UnsafeURL) as refused:
        resolve_and_check("nowhere.example.com", 443, allow_loopback=False,
                          resolver=failing_resolver)

    assert refused.value.code == "UNRESOLVABLE_HOST"


def test_resolve_and_check_allows_loopback_answers_only_when_asked():
    resolver = fake_resolver("127.0.0.1", "::1")

    assert resolve_and_check("dev.test", 8000, allow_loopback=True, resolver=resolver) == [
        "127.0.0.1", "::1"]
    with pytest.raises(UnsafeURL):
        resolve_and_check("dev.test", 8000, allow_loopback=False, resolver=resolver)


@pytest.mark.parametrize(
    ("host", "allow_loopback", "result"),
    [
        ("93.184.216.34", False, ["93.184.216.34"]),
        ("[2606:4700::1111]", False, ["2606:4700::1111"]),
        ("127.1", True, ["127.0.0.1"]),
    ],
)
def test_resolve_and_check_takes_literal_addresses_without_asking_dns(
    host, allow_loopback, result
):
    assert resolve_and_check(host, 443, allow_loopback=allow_loopback,
                             resolver=failing_resolver) == result


@pytest.mark.parametrize(("host", "code"), [("localhost", "LOOPBACK_ADDRESS"),
                                            ("0x7f.1", "LOOPBACK_ADDRESS"),
                                            ("10.0.0.1", "PRIVATE_ADDRESS")])
def test_resolve_and_check_refuses_blocked_hosts_before_any_lookup(host, code):
    resolver = fake_resolver("93.184.216.34")

    with pytest.raises(UnsafeURL) as refused:
        resolve_and_check(host, 443, allow_loopback=False, resolver=resolver)

    assert refused.value.code == code
    assert resolver.calls == []
