"""Where the server may connect on a caller's behalf: public addresses only, checked where it connects.

A check made on a URL and a connection made later can disagree (DNS rebinding: a name that answers with a
public address for the check and a private one for the connection). So the rule is applied twice: up
front, to give the caller a clear refusal before anything is submitted, and in the network backend of
the one HTTP client that fetches callers' URLs, which resolves each name once, checks every address it
got, and connects to that address and no other. Redirects are followed by hand, a few hops at most, each
hop checked again.

The operator's own settings (host base URLs, the identity provider) never come through here.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urljoin, urlsplit

import anyio
import httpx2

from server.trust.addresses import IPAddress, literal_address, normal_host, not_public, special_name

if TYPE_CHECKING:
    from httpcore2 import AsyncNetworkBackend

MAX_REDIRECTS = 3
FETCH_TIMEOUT = httpx2.Timeout(30.0, connect=10.0)
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
        try:
            port = 443 if parts.port is None else parts.port
        except ValueError:
            port = 0
        if not 1 <= port <= 65535:  # port 0 is no port, not the default one
            raise Refused(host, "given with a port that is not a number from 1 to 65535")
        if address is None:
            with suppress(OSError, TimeoutError):
                await self.addresses(host, port)


class CallerHttp:
    """The one HTTP client for callers' URLs, made on first use (its TLS setup costs a desktop's start):
    no proxies from the environment, no automatic redirects, every connection through the guard."""

    def __init__(self, guard: Guard, timeout: httpx2.Timeout = FETCH_TIMEOUT) -> None:
        self.guard, self._timeout = guard, timeout
        self._client: httpx2.AsyncClient | None = None

    @asynccontextmanager
    async def get(self, url: str, headers: Mapping[str, str] | None = None) -> AsyncIterator[httpx2.Response]:
        """Stream a GET of a caller's URL, following at most MAX_REDIRECTS redirects to https:// URLs."""
        if self._client is None:
            from server.trust.guarded import GuardedTransport  # httpcore's pieces, loaded on the first fetch

            transport = GuardedTransport(self.guard)
            self._client = httpx2.AsyncClient(transport=transport, timeout=self._timeout, trust_env=False)
        for _ in range(MAX_REDIRECTS + 1):
            await self.guard.check_url(url)
            async with self._client.stream("GET", url, headers=headers) as response:
                location = response.headers.get("location")
                if not (response.is_redirect and location):
                    yield response
                    return
            url = urljoin(url, location)
            if not url.startswith("https://"):
                raise Refused(urlsplit(url).hostname or url, "reached by a redirect to a URL that is not https://")
        raise Refused(urlsplit(url).hostname or url, f"more than {MAX_REDIRECTS} redirects away")

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
