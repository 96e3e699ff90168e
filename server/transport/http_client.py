"""The one HTTP client every provider shares, made on first use.

Making an httpx2 client loads the machine's CA certificates for TLS, about 40 ms, which a desktop client
would otherwise wait for at every launch before the handshake; nothing needs the network until a job is
submitted, followed or saved.
"""

from __future__ import annotations

from typing import Any, cast

import httpx2


class LazyClient:
    """Stands in for an `httpx2.AsyncClient`, answering every method of the real one, made when first asked."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._client: httpx2.AsyncClient | None = None

    def __getattr__(self, name: str) -> Any:
        if self._client is None:
            self._client = httpx2.AsyncClient(**self._options)
        return getattr(self._client, name)

    async def __aenter__(self) -> httpx2.AsyncClient:
        return cast(httpx2.AsyncClient, self)

    async def __aexit__(self, *exc_info: object) -> None:
        if self._client is not None:
            await self._client.aclose()
