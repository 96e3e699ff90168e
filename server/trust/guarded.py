"""The network beneath the client for callers' URLs: connections go only to an address the guard checked.

Loaded on the first fetch of a caller's URL, since httpcore's connection pool costs every start otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable

import httpcore2
import httpx2
from httpcore2 import AsyncNetworkBackend, AsyncNetworkStream

from server.trust.guard import Guard, Refused


class GuardedBackend(AsyncNetworkBackend):
    """httpcore's network backend, connecting only to the checked address a name resolved to."""

    def __init__(self, guard: Guard) -> None:
        self._guard, self._inner = guard, guard.network or httpcore2.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        try:
            addresses = await self._guard.addresses(host, port)
        except Refused as refused:
            raise httpcore2.ConnectError(str(refused)) from refused
        except (OSError, TimeoutError) as exc:
            raise httpcore2.ConnectError(f"{host} could not be looked up ({exc})") from exc
        return await self._inner.connect_tcp(
            str(addresses[0]), port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None
    ) -> AsyncNetworkStream:
        raise httpcore2.ConnectError("callers' URLs are never fetched over a local socket")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx2.AsyncHTTPTransport):
    """httpx's transport with its connection pool built on the guarded backend."""

    def __init__(self, guard: Guard) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore2.AsyncConnectionPool(
            ssl_context=httpx2.create_ssl_context(), network_backend=GuardedBackend(guard)
        )
