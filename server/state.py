"""What the server shares between tool calls while it runs (the lifespan's result)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mcp.server.mcpserver import Context

from server.errors import ConfigurationError
from server.jobs import JobTracker
from server.ledger import Ledger
from server.settings import Settings


@dataclass
class AppState:
    settings: Settings
    ledger: Ledger
    tracker: JobTracker | None

    def require_tracker(self) -> JobTracker:
        if self.tracker is None:
            raise ConfigurationError(
                "No video provider is configured, so nothing was submitted: this server needs FAL_KEY in its "
                "environment (the `env` block of the MCP client's config). estimate_cost works without it."
            )
        return self.tracker


def app_state(ctx: Context[Any]) -> AppState:
    """The running server's state, from inside a tool call."""
    state = ctx.request_context.lifespan_context
    assert isinstance(state, AppState)
    return state
