"""Stopping a replica the way an orchestrator expects: on SIGTERM readiness fails at once, new tool calls are
refused with a sentence saying to retry (the balancer sends the retry elsewhere), and calls in progress hand
back their job's request_id without waiting any longer. When they have, or SEEDANCE_DRAIN_SECONDS have
passed, the server stops, and its followed jobs are handed to the other replicas."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerMiddleware, ServerRequestContext
from mcp.types import CallToolResult, TextContent

from server import metrics
from server.errors import LimitReached

logger = logging.getLogger(__name__)

STOPPING = LimitReached(
    "draining",
    "Refused: this server is stopping and takes no new calls; nothing was submitted or charged. Retry this same "
    "call in a few seconds: another replica will answer it, and get_job finds jobs started here.",
)


class Drain:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.since: float | None = None  # monotonic time the drain began
        self.calls = 0  # tool calls in progress
        self._wake: Callable[[], None] | None = None

    @property
    def draining(self) -> bool:
        return self.since is not None

    def wakes(self, wake: Callable[[], None]) -> None:
        """What the drain calls when it begins: the tracker's, which has every waiting call answer now."""
        self._wake = wake

    def begin(self) -> None:
        if self.since is not None:
            return
        self.since = time.monotonic()
        logger.info("draining: %d tool calls in progress get their job back within %g s", self.calls, self.seconds)
        if self._wake is not None:
            self._wake()

    def over(self) -> bool:
        """Whether the server may stop now: every call has answered, or the drain's time is up."""
        return self.since is not None and (self.calls == 0 or time.monotonic() - self.since >= self.seconds)

    def middleware(self) -> ServerMiddleware[Any]:
        """Refuses tool calls once draining, and counts those in progress."""

        async def count_calls(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
            if ctx.method != "tools/call":
                return await call_next(ctx)
            if self.draining:
                return refused(STOPPING)
            self.calls += 1
            try:
                return await call_next(ctx)
            finally:
                self.calls -= 1

        return count_calls


def refused(error: LimitReached) -> CallToolResult:
    """A limit's refusal as a tool error the model reads: the call itself was fine, and may be made again."""
    metrics.refused(error.limit)
    return CallToolResult(content=[TextContent(type="text", text=str(error))], is_error=True)
