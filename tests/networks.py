"""The network beneath the guard, as tests control it: names resolve as a test says, and only loopback is
ever connected to.

Nothing here asks the machine's resolver: a name a test has not mapped has no address, so no test sends a
DNS query. Connections go through the machine's own sockets, but only to loopback; any other address is
counted and refused before a socket is opened, so a wrong guard fails a test instead of reaching out.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

import httpcore2

from server.trust.addresses import IPAddress

PUBLIC = ipaddress.ip_address("93.184.216.34")  # what public names resolve to here; never connected to


class Resolver:
    """A resolver whose answers a test writes: `names[host]` is the list of answers, one per lookup (the
    last repeats), so a name can answer a public address first and loopback next, as in DNS rebinding."""

    def __init__(self, names: dict[str, Sequence[Sequence[str]]] | None = None) -> None:
        self.names = dict(names or {})
        self.lookups: list[str] = []

    def map(self, host: str, *answers: Sequence[str]) -> None:
        self.names[host] = answers

    async def __call__(self, host: str, port: int) -> Sequence[IPAddress]:
        self.lookups.append(host)
        answers = self.names.get(host)
        if not answers:
            raise OSError(f"{host} is not a name this test knows")
        answer = answers[min(self.lookups.count(host), len(answers)) - 1]
        return [ipaddress.ip_address(a) for a in answer]


class LoopbackOnly(httpcore2.AsyncNetworkBackend):
    """The machine's sockets, for loopback addresses only; every address asked for is recorded."""

    def __init__(self) -> None:
        self.inner = httpcore2.AnyIOBackend()
        self.asked: list[str] = []

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        self.asked.append(host)
        if not ipaddress.ip_address(host).is_loopback:
            raise httpcore2.ConnectError(f"the test network refuses {host}: only loopback is reachable from tests")
        return await self.inner.connect_tcp(host, port, timeout, local_address, socket_options)

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)
