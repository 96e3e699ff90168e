"""Argument errors a model can fix in one go.

The SDK would answer a bad call with pydantic's raw report, and would coerce "42" into 42 on the way. This
middleware checks `tools/call` and `prompts/get` arguments strictly against the same models first, then
reads the call's media (local files, data: URIs), and answers with one line per bad field: what was
sent, what the schema allows, and how to fix it. Unknown parameters are refused too, so that, say, an
`end_image_url` passed to a tool that has none is not silently dropped. A refusal that only the tool
itself can make (fields that disagree, a budget) is answered in the same shape, not in the SDK's wrapping.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from mcp.server.context import CallNext, HandlerResult, ServerMiddleware, ServerRequestContext
from mcp.server.mcpserver.prompts import Prompt
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import func_metadata
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, CallToolResult, TextContent
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from server import metrics
from server.errors import Problem, echo, refusal, refusals
from server.inputs import SLOTS, jobs_named, media_problems

if TYPE_CHECKING:
    from server.ledger import Ledger
    from server.trust import Trust


@runtime_checkable
class Holdings(Protocol):
    """What the media checks need of the app's state, which sits above the inputs and is handed in."""

    ledger: Ledger
    trust: Trust


class Signature:
    """What a tool or prompt takes: the schema clients see and the model that enforces it, made when first
    needed (most calls of a server's life never check most of its tools)."""

    def __init__(
        self, name: str, model: Callable[[], type[BaseModel]], schema: Callable[[], Mapping[str, Any]] | None = None
    ):
        self.name = name
        self._model, self._schema = model, schema

    @cached_property
    def schema(self) -> Mapping[str, Any]:
        return self._schema() if self._schema is not None else self.model.model_json_schema()

    @cached_property
    def model(self) -> type[BaseModel]:
        return self._model()

    @classmethod
    def of_tool(cls, tool: Tool) -> Signature:
        return cls(tool.name, lambda: tool.fn_metadata.arg_model, lambda: tool.parameters)

    @classmethod
    def of_prompt(cls, prompt: Prompt) -> Signature:
        def model() -> type[BaseModel]:
            skip = [prompt.context_kwarg or ""]
            return func_metadata(prompt.fn, skip_names=skip, structured_output=False).arg_model

        return cls(prompt.name, model)


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
        what = (
            "https:// URLs, data: URIs, local file paths or seedance:// job references"
            if "pattern" in items
            else "items"
        )
        low, high = prop.get("minItems"), prop.get("maxItems")
        if low and high:
            return f"a list of {low} to {high} {what}"
        return f"a list of at least {low} {what}" if low else f"a list of at most {high or 'any number of'} {what}"
    if kind in ("integer", "number"):
        low, high = prop.get("minimum"), prop.get("maximum")
        noun = "an integer" if kind == "integer" else "a number"
        return f"{noun} from {low} to {high}" if low is not None and high is not None else noun
    if kind == "boolean":
        return "true or false"
    if "pattern" in prop and "http" in prop["pattern"]:
        return (
            "an https:// URL, a data: URI, a local file path (absolute, ~/..., or file://), or an earlier job's "
            "frame, seedance://jobs/{request_id}/frames/last"
        )
    if kind == "string":
        text = "a non-empty text" if prop.get("minLength") or "pattern" in prop else "a text"
        return f"{text} of at most {prop['maxLength']} characters" if "maxLength" in prop else text
    return str(prop.get("description", "see the parameter's description"))


JSON_TYPES = {"int_type": "number", "float_type": "number", "bool_type": "boolean", "string_type": "string"}


def _fix(error: ErrorDetails, field: str, prop: Mapping[str, Any]) -> str:
    got, kind = error.get("input"), error["type"]
    if kind == "missing":
        return f"add `{field}`"
    if "enum" in prop:
        if isinstance(got, int | float) and str(got) in prop["enum"]:
            return f'send it as the string "{got}"'
        return f"use one of the allowed values (default {json.dumps(prop.get('default'))})"
    if kind in JSON_TYPES and isinstance(got, str):
        return f"send a JSON {JSON_TYPES[kind]}, not a string in quotes"
    limit = error.get("ctx", {})
    if kind == "too_long" and "maxItems" in prop:
        return f"pass at most {prop['maxItems']} items"
    if kind == "too_short" and "minItems" in prop:
        return f"pass at least {prop['minItems']} items"
    if kind in ("too_long", "string_too_long") and ("maxLength" in prop or "max_length" in limit):
        return f"shorten it to at most {prop.get('maxLength', limit.get('max_length'))} characters"
    if kind == "control_character":
        return "remove it (line breaks and tabs are fine)"
    if kind == "string_pattern_mismatch" and isinstance(got, str) and got.lower().startswith("http://"):
        return "use the file's https:// address; plain http:// is refused because hosts fetch only https"
    if kind == "string_pattern_mismatch" and "http" in json.dumps(prop):
        return "pass a public https:// URL, a data: URI, or the absolute path of a local file"
    if kind in ("string_too_short", "string_pattern_mismatch"):
        return "write a text that is not blank"
    return "change the value to one that is allowed"


# For these, pydantic's own words only repeat what "Allowed" says better.
SELF_EXPLAINED = frozenset(
    {"literal_error", "enum", "string_pattern_mismatch", "missing", "string_too_long", "too_long", "too_short"}
)


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
        problem = "missing, and it is required"
    else:
        sent = first.get("input")
        got = json.dumps(echo(sent) if isinstance(sent, str) else sent, default=str, ensure_ascii=False)
        got = got if isinstance(sent, str) else echo(got)
        words = first["msg"]
        why = "" if first["type"] in SELF_EXPLAINED else f" ({words[0].lower()}{words[1:]})"
        problem = f"got {got}{where}{why}"
    return Problem(path, problem, _fix(first, field, prop), _allowed(prop)).line()


def _unknown(where: str, name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    problem = f"not a parameter of {where}" + (f" (did you mean `{close[0]}`?)" if close else "")
    fix = f"rename it to `{close[0]}`" if close else "remove it"
    return Problem(echo(name), problem, fix, f"the parameters {', '.join(known)}").line()


def problems(signature: Signature, arguments: Mapping[str, Any]) -> tuple[list[str], set[str]]:
    """One line per bad argument, and the names of the bad ones; no lines when the call is valid.

    Validation is strict, as JSON Schema is: "42" is not an integer and "yes" is not a boolean."""
    known = signature.schema.get("properties", {})
    unknown = [name for name in arguments if name not in known]
    lines = [_unknown(signature.name, name, list(known)) for name in unknown]
    bad = set(unknown)
    try:
        signature.model.model_validate_json(json.dumps(dict(arguments)), strict=True)
    except ValidationError as exc:
        grouped: dict[tuple[str, str], list[ErrorDetails]] = {}
        for error in exc.errors(include_url=False):
            if error["loc"] and error["loc"][0] in unknown:
                continue  # already named: it is not a parameter at all
            grouped.setdefault((str(error["loc"][:1]), error["type"]), []).append(error)
            bad.add(str(error["loc"][0]) if error["loc"] else "arguments")
        lines += [_describe(errors, signature.schema) for errors in grouped.values()]
    return lines, bad


async def _tool_error(ctx: ServerRequestContext[Any, Any], tool: Signature, arguments: Mapping[str, Any]) -> str | None:
    found, bad = problems(tool, arguments)
    state = ctx.lifespan_context
    if isinstance(state, Holdings):
        skip = bad | {slot for slot in SLOTS if slot not in tool.schema.get("properties", {})}
        find = await jobs_named(state.ledger, arguments)
        found += [problem.line() for problem in await media_problems(arguments, state.trust, find, skip)]
    return refusal(found, tool.name) if found else None


def _prompt_error(prompts: Mapping[str, Signature], name: str, arguments: Mapping[str, Any]) -> str | None:
    prompt = prompts.get(name)
    if prompt is None:
        return f"Unknown prompt {json.dumps(name)}. Prompts: {', '.join(prompts)}. Fix: ask for one of those."
    found, _ = problems(prompt, arguments)
    if not found:
        return None
    return f"Invalid arguments for the prompt {name}.\n" + "\n".join(found) + "\nFix the arguments above and ask again."


def is_error(result: HandlerResult) -> bool:
    """Whether a tool call's result is a tool error, as a result object or as the wire's dict."""
    if isinstance(result, CallToolResult):
        return result.is_error is True
    return isinstance(result, dict) and result.get("isError") is True


def _refused(text: str) -> CallToolResult:
    metrics.refused("invalid")  # unless a spending limit refused it first, and counted it as such
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)


def argument_checker(tools: Sequence[Tool], prompts: Sequence[Prompt]) -> ServerMiddleware[Any]:
    tool_signatures = {tool.name: Signature.of_tool(tool) for tool in tools}
    prompt_signatures = {prompt.name: Signature.of_prompt(prompt) for prompt in prompts}

    async def check_arguments(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        params = ctx.params or {}
        arguments = params.get("arguments") or {}
        if not isinstance(arguments, Mapping):
            return await call_next(ctx)
        if ctx.method == "tools/call" and (tool := tool_signatures.get(str(params.get("name")))) is not None:
            text = await _tool_error(ctx, tool, arguments)
            if text is not None:
                return _refused(text)
            with refusals() as raised:
                result = await call_next(ctx)
            if raised and is_error(result):
                return _refused(refusal([p.line() for p in raised[-1].problems], tool.name))
            return result
        elif ctx.method == "prompts/get":
            text = _prompt_error(prompt_signatures, str(params.get("name")), arguments)
            if text is not None:
                raise MCPError(INVALID_PARAMS, text)
        return await call_next(ctx)

    return check_arguments
