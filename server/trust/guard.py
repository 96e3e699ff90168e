"""The rule for callers' URLs: public addresses only, in every spelling, checked up front and again where the
network backend connects (`server.trust.guarded`), with a resolver a test can replace.

The operator's own settings (host base URLs, the identity provider) never come through here.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol
from urllib.parse import SplitResult, urlsplit

import anyio

from server.trust.addresses import IPAddress, literal_address, normal_host, not_public, special_name

if TYPE_CHECKING:
    from httpcore2 import AsyncNetworkBackend

RESOLVE_SECONDS = 5.0


class Refused(Exception):
    """A caller's URL that names, resolves to, or redirects to an address this server does not fetch from."""

    def __init__(self, host: str, why: str) -> None:
        self.host, self.why = host, why
        super().__init__(f"{host[:80]} is {why}")


class Resolver(Protocol):
    async def __call__(self, host: str, port: int) -> Sequence[IPAddress]:
        """Every address `host` has; OSError when it has none."""
        ...


async def system_resolver(host: str, port: int) -> Sequence[IPAddress]:
    with anyio.fail_after(RESOLVE_SECONDS):
        found = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = [literal_address(str(info[4][0]).split("%")[0]) for info in found]
    return [a for a in dict.fromkeys(addresses) if a is not None]


def port_of(parts: SplitResult) -> int | None:
    """The port an https URL connects to (443 when it names none); None when what it names is no port: not a
    number, or outside 1 to 65535 (port 0 is no port, not the default one)."""
    try:
        port = 443 if parts.port is None else parts.port
    except ValueError:
        return None
    return port if 1 <= port <= 65535 else None


@dataclass(frozen=True)
class Guard:
    """The rule for callers' URLs, with the resolver it asks and the private hosts the operator allowed."""

    resolver: Resolver = system_resolver
    private_hosts: frozenset[str] = field(default_factory=frozenset)  # SEEDANCE_PRIVATE_MEDIA_HOSTS
    network: AsyncNetworkBackend | None = None  # None: the machine's own sockets

    def allowed(self, host: str) -> bool:
        address = literal_address(host)
        return host in self.private_hosts or (address is not None and str(address) in self.private_hosts)

    def literal(self, raw_host: str) -> tuple[str, IPAddress | None]:
        """The normalised host and the address it spells, refused at once when that address is not public."""
        try:
            host = normal_host(raw_host)
        except (ValueError, UnicodeError):
            raise Refused(raw_host, "not a host name this server can look up") from None
        address = literal_address(host)
        why = special_name(host) or (not_public(address) if address is not None else None)
        if why and not self.allowed(host):
            raise Refused(raw_host, why)
        return host, address

    async def addresses(self, raw_host: str, port: int) -> list[IPAddress]:
        """The addresses to connect to for `raw_host`: each one checked, Refused when any is not public."""
        host, address = self.literal(raw_host)
        if address is not None:
            return [address]
        found = list(await self.resolver(host, port))
        if not found:
            raise OSError(f"{host} has no address")
        for each in found:
            if (why := not_public(each)) and not self.allowed(host):
                raise Refused(raw_host, f"a name for {why}")
        return found

    async def check_url(self, url: str) -> None:
        """Refuse a URL up front by its host; a name that does not resolve here is let through, since only
        the host that fetches it knows whether it can."""
        parts = urlsplit(url)
        host, address = self.literal(parts.hostname or "")
        if (port := port_of(parts)) is None:
            raise Refused(host, "given with a port that is not a number from 1 to 65535")
        if address is None:
            with suppress(OSError, TimeoutError):
                await self.addresses(host, port)
