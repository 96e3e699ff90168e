"""The HTTP door: a caller already over SEEDANCE_USER_CALLS_PER_MINUTE has the rest of their minute's tool
calls refused here, before sign-in, the session and the MCP machinery, which cost a replica most of a call.

The door acts only for a caller the server itself refused a moment ago, after their sign-in was checked
(`SpentMinutes`), and only until their minute, or their token, ends: the answer is the one the server would
have given. Everything else, and every request the door cannot read as one tools/call, goes on unchanged,
with its body as it came. Measured on the performance page (section 13): a flood of one person's calls
otherwise slows everyone else's on the replica it reaches.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable

from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server import metrics
from server.jobs.limits import too_many_calls
from server.operations.call_limits import UNCOUNTED, caller_key
from server.operations.draining import refused
from server.state import AppState

MCP_PATH = "/mcp"  # where the SDK's app serves MCP: a POST anywhere else is not a tool call


class Door:
    """ASGI: answers a spent caller's tool calls with the calls-a-minute refusal; hands on everything else."""

    def __init__(
        self,
        app: ASGIApp,
        state: Callable[[], AppState | None],
        cap: int,
        security: TransportSecuritySettings,
        max_body: int,
    ) -> None:
        self.app = app
        self.state = state
        self.cap = cap
        self.guard = TransportSecurityMiddleware(security)
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = self.state()
        asked = scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == MCP_PATH
        if not asked or state is None or not state.spent_minutes:
            return await self.app(scope, receive, send)  # the common case: nobody is over, nothing is read
        started, now = time.perf_counter(), time.time()
        if not state.spent_minutes.spent(caller_key(scope), now):
            return await self.app(scope, receive, send)
        if await self.guard.validate_request(Request(scope), is_post=True) is not None:
            return await self.app(scope, receive, send)  # a wrong Host, Origin or type: the server says which
        body, replay = await read_body(receive, self.max_body)
        call = _tool_call(body)
        if call is None or call[1] in UNCOUNTED:
            return await self.app(scope, replay, send)
        request_id, tool = call
        result = refused(too_many_calls(self.cap, now))  # counted as the server counts its own refusals
        answer = {"jsonrpc": "2.0", "id": request_id, "result": result.model_dump(by_alias=True, exclude_none=True)}
        content = json.dumps(answer).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": content})
        metrics.meter.tool_call(tool, "refused", time.perf_counter() - started)


async def read_body(receive: Receive, most: int) -> tuple[bytes, Receive]:
    """The request's body, up to `most` bytes (longer: it is over), and a `receive` that gives the app the same
    messages again."""
    messages: deque[Message] = deque()
    body = b""
    while len(body) <= most:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        body += message.get("body", b"")
        if not message.get("more_body", False):
            break

    async def replay() -> Message:
        return messages.popleft() if messages else await receive()

    return body, replay


def _tool_call(body: bytes) -> tuple[str | int, str] | None:
    """The JSON-RPC id and tool name of a single tools/call request; None for anything else."""
    try:
        message = json.loads(body)
    except ValueError:
        return None
    if not isinstance(message, dict) or message.get("method") != "tools/call":
        return None
    request_id, params = message.get("id"), message.get("params")
    if isinstance(request_id, bool) or not isinstance(request_id, str | int) or not isinstance(params, dict):
        return None
    name = params.get("name")
    return (request_id, name) if isinstance(name, str) else None
