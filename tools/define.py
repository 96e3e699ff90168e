"""Turning a typed function into an MCP tool: the signature is the input schema, the docstring the description."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from mcp.server.mcpserver.tools import Tool
from mcp.types import ToolAnnotations


def define(
    fn: Callable[..., Any], *, title: str, annotations: ToolAnnotations, meta: dict[str, Any] | None = None
) -> Tool:
    """A tool whose description is the docstring without its source indentation, and whose schema is closed.

    The closed schema tells clients what `server.inputs.arguments` enforces: an unknown name is an error."""
    description = inspect.cleandoc(fn.__doc__ or "")
    tool = Tool.from_function(fn, title=title, description=description, annotations=annotations, meta=meta)
    tool.parameters["additionalProperties"] = False  # a misspelt argument is refused, never ignored
    return tool
