"""What the server shares between tool calls while it runs (the lifespan's result)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
from mcp.server.mcpserver import Context

from server.jobs.limits import SpentMinutes
from server.jobs.tracker import JobTracker
from server.ledger import JobRecord, Ledger
from server.media.saving import Keeper
from server.settings import Settings
from server.trust import Trust
from server.trust.network import CallerHttp


@dataclass
class AppState:
    settings: Settings
    ledger: Ledger
    tracker: JobTracker
    http: httpx2.AsyncClient
    keeper: Keeper
    trust: Trust
    callers_http: CallerHttp  # the guarded client for callers' URLs
    spent_minutes: SpentMinutes = field(default_factory=SpentMinutes)  # callers the HTTP door answers itself

    async def local_copy(self, record: JobRecord) -> Path:
        """A finished job's video on this machine (see `Keeper.local_copy`)."""
        return await self.keeper.local_copy(record)


def app_state(ctx: Context[Any]) -> AppState:
    """The running server's state, from inside a tool call."""
    state = ctx.request_context.lifespan_context
    assert isinstance(state, AppState)
    return state


class StateRef:
    """Reaches the state the lifespan built from where no request context is handed over: resources, the
    probes."""

    current: AppState | None = None

    def __call__(self) -> AppState:
        if self.current is None:
            raise RuntimeError("the server is not running")
        return self.current
