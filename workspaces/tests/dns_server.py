"""A real DNS server on loopback for the domain verification tests (dnslib).

Answers TXT queries from a dict the test changes as it goes; a name it does not know is
NXDOMAIN. `failing` answers SERVFAIL to everything, `silent` never answers.
"""

from dnslib import QTYPE, RCODE, RR, TXT
from dnslib.server import BaseResolver, DNSError, DNSLogger, DNSServer


class _Quiet(DNSLogger):
    def __init__(self):
        super().__init__(log="-recv,-send,-request,-reply,-truncated,-error,-data")


class ZoneResolver(BaseResolver):
    def __init__(self):
        self.txt: dict[str, list[str]] = {}
        self.failing = False
        self.silent = False
        self.queries: list[str] = []

    def resolve(self, request, handler):
        name = str(request.q.qname).rstrip(".").lower()
        self.queries.append(name)
        if self.silent:
            raise DNSError("dropped on purpose")
        reply = request.reply()
        if self.failing:
            reply.header.rcode = RCODE.SERVFAIL
        elif name not in self.txt:
            reply.header.rcode = RCODE.NXDOMAIN
        elif request.q.qtype == QTYPE.TXT:
            for text in self.txt[name]:
                reply.add_answer(RR(request.q.qname, QTYPE.TXT, rdata=TXT(text), ttl=60))
        return reply


class LoopbackDns:
    """Started on a free UDP port of 127.0.0.1; `publish`/`withdraw` change the zone."""

    def __init__(self):
        self.resolver = ZoneResolver()
        self.server = DNSServer(self.resolver, address="127.0.0.1", port=0, logger=_Quiet())
        self.port = self.server.server.server_address[1]

    def start(self):
        self.server.start_thread()

    def stop(self):
        self.server.stop()
        self.server.server.server_close()

    def publish(self, name: str, *texts: str) -> None:
        self.resolver.txt.setdefault(name.lower(), []).extend(texts)

    def withdraw(self, name: str) -> None:
        self.resolver.txt.pop(name.lower(), None)
