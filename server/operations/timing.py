"""Every tool call counted by tool and outcome, and timed: ok, error (the host failed, the job is missing), or
refused (a limit or a wrong argument, counted by reason where it refused). Over stdio the counts go nowhere."""

from __future__ import annotations

import time
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerMiddleware, ServerRequestContext

from server import metrics
from server.inputs.arguments import is_error


def tool_metrics() -> ServerMiddleware[Any]:
    async def time_the_call(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method != "tools/call":
            return await call_next(ctx)
        tool = str((ctx.params or {}).get("name"))  # the meter keeps it only if it is one of ours
        call = metrics.begin_call()
        started = time.perf_counter()
        outcome: metrics.Outcome = "error"
        try:
            result = await call_next(ctx)
            outcome = "refused" if call.refused else "error" if is_error(result) else "ok"
            return result
        finally:
            metrics.meter.tool_call(tool, outcome, time.perf_counter() - started)

    return time_the_call
