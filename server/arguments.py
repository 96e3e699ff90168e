"""Argument errors a model can fix in one go.

The SDK would answer a bad call with pydantic's raw report. This middleware checks `tools/call`
arguments against the same models first and answers with one line per bad field: what was sent, what
the schema allows, and how to fix it. Unknown parameters are refused too, so that, say, an
`end_image_url` passed to a tool that has none is not silently dropped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerMiddleware, ServerRequestContext
from mcp.server.mcpserver.tools import Tool
from mcp.types import CallToolResult, TextContent
from pydantic import ValidationError
from pydantic_core import ErrorDetails


def _field_schema(schema: Mapping[str, Any], name: str) -> dict[str, Any]:
    prop = dict(schema.get("properties", {}).get(name, {}))
    for option in prop.pop("anyOf", []):
        if option.get("type") != "null":
            prop = {**option, **prop}
    if "$ref" in prop:
        prop = {**schema.get("$defs", {}).get(prop.pop("$ref").rsplit("/", 1)[-1], {}), **prop}
    return prop


def _allowed(prop: Mapping[str, Any]) -> str:
    if "enum" in prop:
        values = ", ".join(json.dumps(v) for v in prop["enum"])
        strings = " (strings, exactly as written)" if all(isinstance(v, str) for v in prop["enum"]) else ""
        return f"one of {values}{strings}"
    kind = prop.get("type")
    if kind == "array":
        items = prop.get("items", {})
        what = "URLs, data: URIs or local file paths" if "pattern" in items else "items"
        return f"a list of at most {prop.get('maxItems', 'any number of')} {what}"
    if kind in ("integer", "number"):
        low, high = prop.get("minimum"), prop.get("maximum")
        noun = "an integer" if kind == "integer" else "a number"
        return f"{noun} from {low} to {high}" if low is not None and high is not None else noun
    if kind == "boolean":
        return "true or false"
    if "pattern" in prop and "http" in prop["pattern"]:
        return "an https:// URL, a data: URI, or a local file path (absolute, ~/..., or file://)"
    if kind == "string":
        return "a non-empty text" if prop.get("minLength") or "pattern" in prop else "a text"
    return str(prop.get("description", "see the parameter's description"))


def _fix(error: ErrorDetails, field: str, prop: Mapping[str, Any]) -> str:
    got, kind = error.get("input"), error["type"]
    if kind == "missing":
        return f"add `{field}`"
    if "enum" in prop:
        if isinstance(got, int | float) and str(got) in prop["enum"]:
            return f'send it as the string "{got}"'
        return f"use one of the allowed values (default {json.dumps(prop.get('default'))})"
    if kind == "too_long":
        return f"pass at most {prop.get('maxItems')} items"
    if kind == "string_pattern_mismatch" and "http" in json.dumps(prop):
        return "pass a public https:// URL, a data: URI, or the absolute path of a local file"
    if kind in ("string_too_short", "string_pattern_mismatch"):
        return "write a text that is not blank"
    return "change the value to one that is allowed"


# For these, pydantic's own words only repeat what "Allowed" says better.
SELF_EXPLAINED = frozenset({"literal_error", "enum", "string_pattern_mismatch", "missing"})


def _describe(errors: list[ErrorDetails], schema: Mapping[str, Any]) -> str:
    """One line for one field, however many of its list items are wrong in the same way."""
    first = errors[0]
    loc = first["loc"]
    field = str(loc[0]) if loc else "arguments"
    items = [str(e["loc"][1]) for e in errors if len(e["loc"]) > 1]
    path = f"{field}[{items[0]}]" if len(items) == 1 else field
    where = f" (items {', '.join(items)})" if len(items) > 1 else ""
    prop = _field_schema(schema, field)
    if first["type"] == "missing":
        problem = "is required"
    else:
        got = json.dumps(first.get("input"), default=str)
        got = got[:80] + "..." if len(got) > 80 else got
        words = first["msg"].replace("tuple", "list")  # the schema says array; pydantic's type is an implementation
        why = "" if first["type"] in SELF_EXPLAINED else f" ({words[0].lower()}{words[1:]})"
        problem = f"got {got}{where}{why}"
    return f"- `{path}` {problem}. Allowed: {_allowed(prop)}. Fix: {_fix(first, field, prop)}."


def problems(tool: Tool, arguments: Mapping[str, Any]) -> list[str]:
    """One line per bad argument; empty when the call is valid."""
    schema = tool.parameters
    known = schema.get("properties", {})
    lines = [
        f"- `{name}` is not a parameter of {tool.name}. Allowed parameters: {', '.join(known)}. Fix: remove it."
        for name in arguments
        if name not in known
    ]
    try:
        tool.fn_metadata.validate_arguments(dict(arguments))
    except ValidationError as exc:
        grouped: dict[tuple[str, str], list[ErrorDetails]] = {}
        for error in exc.errors(include_url=False):
            grouped.setdefault((str(error["loc"][:1]), error["type"]), []).append(error)
        lines += [_describe(errors, schema) for errors in grouped.values()]
    return lines


def argument_checker(tools: Sequence[Tool]) -> ServerMiddleware[Any]:
    by_name = {tool.name: tool for tool in tools}

    async def check_arguments(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method == "tools/call" and ctx.params:
            tool = by_name.get(str(ctx.params.get("name")))
            arguments = ctx.params.get("arguments") or {}
            if tool is not None and isinstance(arguments, Mapping):
                found = problems(tool, arguments)
                if found:
                    text = (
                        f"Invalid arguments for {tool.name}; nothing was submitted or charged.\n"
                        + "\n".join(found)
                        + f"\nFix the fields above and call {tool.name} again."
                    )
                    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)
        return await call_next(ctx)

    return check_arguments
