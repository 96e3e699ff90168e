"""Turning a typed function into an MCP tool: the signature is the input schema, the docstring the description.

Building a tool's schemas from its signature takes pydantic a few milliseconds a tool, paid at every start
before the first answer. So the schemas are stored in `schemas.json`, written from the signatures by
`python -m scripts.reference` (a test fails when they differ), and a tool's argument model is built on its
first call. A tool the file does not know yet is built at once.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import FuncMetadata, func_metadata
from mcp.types import ToolAnnotations

STORED = Path(__file__).with_name("schemas.json")


class StoredTool(Tool):
    """A tool listed from its stored schemas; its argument model is made when it is first called."""

    def __getattr__(self, name: str) -> Any:
        if name == "fn_metadata":  # absent until first asked for: see `define`
            metadata = _metadata(self.fn, self.context_kwarg)
            self.__dict__["fn_metadata"] = metadata
            return metadata
        return super().__getattr__(name)  # type: ignore[misc]


def _metadata(fn: Callable[..., Any], context_kwarg: str | None) -> FuncMetadata:
    return func_metadata(fn, skip_names=[context_kwarg] if context_kwarg else [])


def build(
    fn: Callable[..., Any], *, title: str, annotations: ToolAnnotations, meta: dict[str, Any] | None = None
) -> Tool:
    """The tool built from its signature now, as the SDK builds it, with a closed schema.

    The closed schema tells clients what `server.inputs.arguments` enforces: an unknown name is an error."""
    description = inspect.cleandoc(fn.__doc__ or "")
    tool = Tool.from_function(fn, title=title, description=description, annotations=annotations, meta=meta)
    tool.parameters["additionalProperties"] = False  # a misspelt argument is refused, never ignored
    return tool


def schemas(tool: Tool) -> dict[str, Any]:
    """What `schemas.json` keeps of a tool."""
    return {"inputSchema": tool.parameters, "outputSchema": tool.output_schema, "context": tool.context_kwarg}


@cache
def stored() -> dict[str, dict[str, Any]]:
    try:
        found: dict[str, dict[str, Any]] = json.loads(STORED.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    return found


def define(
    fn: Callable[..., Any], *, title: str, annotations: ToolAnnotations, meta: dict[str, Any] | None = None
) -> Tool:
    """The tool, from its stored schemas when `schemas.json` has them, else built from its signature."""
    kept = stored().get(fn.__name__)
    if kept is None:
        return build(fn, title=title, annotations=annotations, meta=meta)
    tool = StoredTool.model_construct(
        fn=fn,
        name=fn.__name__,
        title=title,
        description=inspect.cleandoc(fn.__doc__ or ""),
        parameters=kept["inputSchema"],
        is_async=inspect.iscoroutinefunction(fn),
        context_kwarg=kept["context"],
        annotations=annotations,
        meta=meta,
    )
    tool.__dict__["output_schema"] = kept["outputSchema"]  # Tool.output_schema is a cached property
    return tool
