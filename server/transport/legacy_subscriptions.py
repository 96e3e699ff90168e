"""`resources/subscribe` for clients on the 2025 protocol (most desktop clients today).

`MCPServer` publishes resource updates only to 2026 `subscriptions/listen` streams and does not serve
the older `resources/subscribe`, so without this a 2025 client would never hear that a job finished.
The handlers are registered on the low-level server, the documented way to add a method it lacks.
"""

from __future__ import annotations

import logging
from typing import Any

from mcp import types
from mcp.server import MCPServer
from mcp.server.context import ServerRequestContext
from mcp.server.session import ServerSession

logger = logging.getLogger(__name__)


class LegacySubscriptions:
    def __init__(self) -> None:
        self._sessions: dict[str, set[ServerSession]] = {}

    def install(self, mcp: MCPServer[Any]) -> None:
        server = mcp._lowlevel_server
        server.add_request_handler("resources/subscribe", types.SubscribeRequestParams, self._subscribe)
        server.add_request_handler("resources/unsubscribe", types.UnsubscribeRequestParams, self._unsubscribe)

    async def _subscribe(
        self, ctx: ServerRequestContext[Any, Any], params: types.SubscribeRequestParams
    ) -> types.EmptyResult:
        self._sessions.setdefault(str(params.uri), set()).add(ctx.session)
        return types.EmptyResult()

    async def _unsubscribe(
        self, ctx: ServerRequestContext[Any, Any], params: types.UnsubscribeRequestParams
    ) -> types.EmptyResult:
        self._sessions.get(str(params.uri), set()).discard(ctx.session)
        return types.EmptyResult()

    async def notify(self, uri: str) -> None:
        for session in list(self._sessions.get(uri, ())):
            try:
                await session.send_resource_updated(uri)
            except Exception as exc:  # a client that went away must not stop the others hearing of it
                logger.debug("dropping a resource subscriber of %s: %s", uri, type(exc).__name__)
                self._sessions[uri].discard(session)
