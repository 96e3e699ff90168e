"""The one place where this server's errors become MCP tool errors the model reads."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from mcp.server.mcpserver.exceptions import ToolError

from server import metrics
from server.errors import InvalidArguments, LimitReached, SeedanceError, note_refusal


@contextmanager
def tool_errors() -> Iterator[None]:
    """A refusal is also noted, so that the argument checker can answer it in the shape of every other."""
    try:
        yield
    except SeedanceError as exc:
        if isinstance(exc, InvalidArguments):
            note_refusal(exc)
        elif isinstance(exc, LimitReached):
            metrics.refused(exc.limit)
        raise ToolError(str(exc)) from exc
