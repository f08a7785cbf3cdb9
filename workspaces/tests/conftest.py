import pytest

from workspaces import domain_claims
from workspaces.domains import txt_name, txt_value
from workspaces.tests.dns_server import LoopbackDns


@pytest.fixture(scope="session")
def _loopback_dns():
    server = LoopbackDns()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def dns(_loopback_dns, settings):
    """The portal's lookups go to a real DNS server on loopback, with an empty zone."""
    settings.DOMAIN_DNS_NAMESERVERS = ["127.0.0.1"]
    settings.DOMAIN_DNS_PORT = _loopback_dns.port
    settings.DOMAIN_DNS_TIMEOUT = 0.5
    resolver = _loopback_dns.resolver
    resolver.txt.clear()
    resolver.queries.clear()
    resolver.failing = resolver.silent = False
    yield _loopback_dns
    resolver.txt.clear()


@pytest.fixture
def verify_domain(dns):
    """Claim a domain for an organization and prove it through DNS, as an Owner would."""

    def verify(*, actor, organization, domain):
        claim = domain_claims.claim_domain(actor=actor, organization=organization,
                                           domain=domain)
        dns.publish(txt_name(claim.domain), txt_value(claim.token))
        return domain_claims.check_domain(claim_id=claim.pk, actor=actor)

    return verify
