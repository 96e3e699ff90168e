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

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from urllib.parse import urljoin, urlsplit

import httpx2

from server.trust.guard import Guard, Refused

MAX_REDIRECTS = 3
FETCH_TIMEOUT = httpx2.Timeout(30.0, connect=10.0)


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
