"""SEEDANCE_USER_CALLS_PER_MINUTE: one person's tool calls, counted in the ledger per UTC minute, so that the
limit holds across replicas. Over it, a call is refused before anything else runs, and costs nothing."""

from __future__ import annotations

import time
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerMiddleware, ServerRequestContext

from server.jobs.limits import too_many_calls
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
                return refused(too_many_calls(cap, now))
        return await call_next(ctx)

    return count_the_call
