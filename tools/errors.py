"""The one place where this server's errors become MCP tool errors the model reads."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from mcp.server.mcpserver.exceptions import ToolError

from server.errors import SeedanceError


@contextmanager
def tool_errors() -> Iterator[None]:
    try:
        yield
    except SeedanceError as exc:
        raise ToolError(str(exc)) from exc
