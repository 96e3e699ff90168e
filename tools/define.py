"""Turning a typed function into an MCP tool, and listing the tools without importing them.

A tool module builds its tool from its function: the signature is the input schema, the docstring the
description (`define`). Importing every tool module, and building every schema, costs a desktop client tens
of milliseconds at each start, before the first answer. So the server lists the tools from `listing.json`,
written from the modules by `python -m scripts.reference` (a test fails when it differs from them), and a
tool's module is imported when the tool is first called.
"""

from __future__ import annotations

import importlib
import inspect
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mcp.server.mcpserver.tools import Tool
from mcp.types import ToolAnnotations

logger = logging.getLogger(__name__)

LISTING = Path(__file__).with_name("listing.json")


def define(
    fn: Callable[..., Any], *, title: str, annotations: ToolAnnotations, meta: dict[str, Any] | None = None
) -> Tool:
    """The tool. Its schema does not say `additionalProperties: false`, though an unknown argument is refused
    all the same (by `server.inputs.arguments`, naming the closest parameter): some agent SDKs cannot read
    a boolean where they expect a schema (google-genai's MCP converter fails on every tool that has one),
    and OpenAI's strict mode adds it by itself."""
    description = inspect.cleandoc(fn.__doc__ or "")
    return Tool.from_function(fn, title=title, description=description, annotations=annotations, meta=meta)


def entry(module: str, tool: Tool) -> dict[str, Any]:
    """What `listing.json` keeps of a tool: what `tools/list` shows, and where the tool lives."""
    annotations = tool.annotations.model_dump(by_alias=True, exclude_none=True) if tool.annotations else None
    return {
        "name": tool.name,
        "module": module,
        "title": tool.title,
        "description": tool.description,
        "annotations": annotations,
        "meta": tool.meta,
        "inputSchema": tool.parameters,
        "outputSchema": tool.output_schema,
    }


class ListedTool(Tool):
    """A tool as `listing.json` lists it; its module, with the tool itself, is imported on its first call."""

    module: str = ""

    def loaded(self) -> Tool:
        found = self.__dict__.get("_loaded")
        if found is None:
            found = importlib.import_module(self.module).TOOL
            if (found.parameters, found.output_schema) != (self.parameters, self.output_schema):
                logger.warning("tool %s: tools/listing.json is stale; run python -m scripts.reference", self.name)
            self.__dict__["_loaded"] = found
        return found  # type: ignore[no-any-return]

    def __getattr__(self, name: str) -> Any:
        if name in ("fn", "fn_metadata", "context_kwarg", "is_async"):  # absent until the module is loaded
            return getattr(self.loaded(), name)
        return super().__getattr__(name)  # type: ignore[misc]

    async def run(self, arguments: dict[str, Any], context: Any, convert_result: bool = False) -> Any:
        return await self.loaded().run(arguments, context, convert_result=convert_result)


def listed(modules: tuple[str, ...]) -> list[Tool]:
    """Every tool, in the order clients list them, from `listing.json`; without that file (a copy of the
    source that lost it), from the modules themselves, at the cost of importing them all now."""
    try:
        listing = json.loads(LISTING.read_text(encoding="utf-8"))
    except FileNotFoundError:
        logger.warning("tools/listing.json is missing: every tool module is imported at start")
        return [importlib.import_module(module).TOOL for module in modules]
    tools: list[Tool] = []
    for kept in listing:
        annotations = ToolAnnotations.model_validate(kept["annotations"]) if kept["annotations"] else None
        tool = ListedTool.model_construct(
            name=kept["name"],
            module=kept["module"],
            title=kept["title"],
            description=kept["description"],
            parameters=kept["inputSchema"],
            annotations=annotations,
            meta=kept["meta"],
        )
        tool.__dict__["output_schema"] = kept["outputSchema"]  # Tool.output_schema is a cached property
        tools.append(tool)
    return tools
