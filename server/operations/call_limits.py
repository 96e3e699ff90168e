"""SEEDANCE_USER_CALLS_PER_MINUTE: one person's tool calls, counted in the ledger per UTC minute, so that the
limit holds across replicas. Over it, a call is refused before anything else runs, and costs nothing; and the
caller is noted, so that the rest of their minute is refused at the HTTP door (`server.operations.door`)."""

from __future__ import annotations

import hashlib
import time
from typing import Any

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.context import CallNext, HandlerResult, ServerMiddleware, ServerRequestContext
from starlette.types import Scope

from server.jobs.limits import minute_end, too_many_calls
from server.operations.draining import refused
from server.settings import Settings
from server.state import AppState
from server.trust.owners import current_person

# The job card plays a video by reading it through this tool, some 35 pieces for a 20 MB clip: counting them
# would spend a person's minute on watching. A person reads only their own jobs' videos with it.
UNCOUNTED = frozenset({"video_chunk"})


def person_of_call(ctx: ServerRequestContext[Any, Any]) -> str:
    """Whom a limit counts: the signed-in person (or the shared token), otherwise the caller's address."""
    name = current_person().name
    if name is not None:
        return name
    client = getattr(ctx.request, "client", None)
    return f"address {client.host}" if client is not None else "this machine"


def caller_key(scope: Scope) -> bytes:
    """Who sent an HTTP request, as far as its headers and address tell before any sign-in is checked: the same
    credential from the same address is the same person. A digest, so that no token is kept."""
    headers = dict(scope.get("headers") or ())
    client = scope.get("client") or ("", 0)
    return hashlib.sha256(headers.get(b"authorization", b"") + b"\n" + str(client[0]).encode()).digest()


def operator_limits(settings: Settings) -> list[ServerMiddleware[Any]]:
    """The middleware SEEDANCE_USER_CALLS_PER_MINUTE asks for: none when it is off (stdio, by default)."""
    cap = settings.calls_per_minute_cap
    return [] if cap is None else [calls_per_minute(cap)]


def calls_per_minute(cap: int) -> ServerMiddleware[Any]:
    async def count_the_call(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method == "tools/call" and (ctx.params or {}).get("name") not in UNCOUNTED:
            state = ctx.lifespan_context
            assert isinstance(state, AppState)
            now = time.time()
            if await state.ledger.count_call(person_of_call(ctx), now) > cap:
                scope = getattr(ctx.request, "scope", None)  # None on stdio, which has no door
                if scope is not None:
                    token = get_access_token()
                    ends = minute_end(now)
                    until = ends if token is None or token.expires_at is None else min(ends, token.expires_at)
                    state.spent_minutes.note(caller_key(scope), until, now)
                return refused(too_many_calls(cap, now))
        return await call_next(ctx)

    return count_the_call
