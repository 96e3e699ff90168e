"""The tools page and the README's tools table, from the live `tools/list` of a server built as it ships, and
`tools/listing.json`, from the tool modules themselves.

A client without MCP Apps lists the tools the model may call; a client with them also lists the card's own.
"""

from __future__ import annotations

import importlib
import json
import logging
import tempfile
from collections.abc import Mapping
from functools import cache
from typing import Any

import anyio
from mcp import Client
from mcp.client.extension import advertise
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID
from mcp.types import Tool as ToolEntry

import tools
from server.app import build_server
from server.settings import Settings
from tools import define

HINTS = {
    "read_only_hint": "read-only",
    "destructive_hint": "destructive",
    "idempotent_hint": "idempotent",
    "open_world_hint": "reaches a host",
}


@cache
def listed() -> tuple[list[ToolEntry], list[ToolEntry]]:
    logging.getLogger("server").setLevel(logging.WARNING)  # the server's start line is not the page's business
    return anyio.run(_listed)


async def _listed() -> tuple[list[ToolEntry], list[ToolEntry]]:
    """What a plain client lists, and what only a client that shows the job card lists besides."""
    with tempfile.TemporaryDirectory() as home:
        settings = Settings.from_env({"HOME": home, "SEEDANCE_HOME": home})
        async with Client(build_server(settings)) as plain:
            model = (await plain.list_tools()).tools
        apps = [advertise(EXTENSION_ID, {"mimeTypes": [APP_MIME_TYPE]})]
        async with Client(build_server(settings), extensions=apps) as rich:
            every = (await rich.list_tools()).tools
    names = {tool.name for tool in model}
    return model, [tool for tool in every if tool.name not in names]


def listing() -> str:
    """`tools/listing.json`: each tool as its module builds it, which the server lists without importing it."""
    found = [define.entry(module, importlib.import_module(module).TOOL) for module in tools.MODULES]
    return json.dumps(found, indent=1) + "\n"


def _resolve(schema: Mapping[str, Any], prop: Mapping[str, Any]) -> dict[str, Any]:
    """A property with its `$ref` and its nullable `anyOf` folded in, as a reader wants it."""
    merged = dict(prop)
    options = merged.pop("anyOf", None)
    if options:
        kept = [o for o in options if o.get("type") != "null"]
        merged = {**(kept[0] if len(kept) == 1 else {"anyOf": kept}), **merged}
        merged["nullable"] = len(kept) < len(options)
    if "$ref" in merged:
        name = merged.pop("$ref").rsplit("/", 1)[-1]
        merged = {**schema.get("$defs", {}).get(name, {}), **merged}
    return merged


def _type(prop: Mapping[str, Any]) -> str:
    if "anyOf" in prop:
        return " or ".join(_type(option) for option in prop["anyOf"])
    kind = str(prop.get("type", "object"))
    if kind == "array":
        kind = f"array of {_type(prop.get('items', {}))}"
    return kind + (" or null" if prop.get("nullable") else "")


def _allowed(prop: Mapping[str, Any]) -> str:
    bits = []
    if "enum" in prop:
        bits.append(", ".join(f"`{json.dumps(value)}`" for value in prop["enum"]))
    for key, words in (("minimum", "≥"), ("maximum", "≤"), ("minLength", "length ≥"), ("maxLength", "length ≤")):
        if key in prop:
            bits.append(f"{words} {prop[key]}")
    for key, words in (("minItems", "items ≥"), ("maxItems", "items ≤")):
        if key in prop:
            bits.append(f"{words} {prop[key]}")
    items = prop.get("items", {})
    if "enum" in items:
        bits.append("each " + ", ".join(f"`{json.dumps(value)}`" for value in items["enum"]))
    return "; ".join(bits)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _parameters(schema: Mapping[str, Any]) -> list[str]:
    required = set(schema.get("required", []))
    rows = ["| parameter | type | allowed | default | what it is |", "| --- | --- | --- | --- | --- |"]
    for name, raw in schema.get("properties", {}).items():
        prop = _resolve(schema, raw)
        default = "required" if name in required else f"`{json.dumps(prop.get('default'))}`"
        rows.append(
            f"| `{name}` | {_type(prop)} | {_cell(_allowed(prop))} | {default} | "
            f"{_cell(str(prop.get('description', '')))} |"
        )
    return rows if len(rows) > 2 else ["No parameters."]


def _section(tool: ToolEntry) -> list[str]:
    hints = tool.annotations.model_dump() if tool.annotations else {}
    marks = [words for key, words in HINTS.items() if hints.get(key)]
    lines = [f"## `{tool.name}`", "", f"**{tool.title}**" + (f" ({', '.join(marks)})" if marks else ""), ""]
    lines += [tool.description or "", "", *_parameters(tool.input_schema), ""]
    if tool.output_schema:
        lines += [
            '??? note "Output schema (`structuredContent`)"',
            "",
            "    ```json",
            *("    " + line for line in json.dumps(tool.output_schema, indent=2).splitlines()),
            "    ```",
            "",
        ]
    return lines


def tools_table() -> str:
    """The README's table: each tool a line, linked to its reference."""
    model, _ = listed()
    rows = ["| tool | what it does |", "| --- | --- |"]
    rows += [f"| [`{t.name}`](docs/tools.md#{t.name}) | {_cell(t.title or '')} |" for t in model]
    return "\n".join(rows)


def tools_page() -> str:
    model, card = listed()
    lines = [
        "# Tools",
        "",
        "Generated from the server's own `tools/list` by `python -m scripts.reference`; do not edit by hand.",
        "",
        f"A client lists {len(model)} tools. Every parameter is checked before anything is sent, and an unknown "
        "one is refused: the schemas are closed. [Working with the tools](guide.md) shows how media, earlier "
        "jobs and results fit together.",
        "",
        "| tool | what it does |",
        "| --- | --- |",
        *(f"| [`{t.name}`](#{t.name}) | {_cell(t.title or '')} |" for t in model),
        "",
    ]
    for tool in model:
        lines += _section(tool)
    lines += [
        "## Tools only the job card calls",
        "",
        "A client that shows the [job card](job-card.md) also lists these; hosts keep them from the model, and "
        "a client without MCP Apps is not shown them.",
        "",
    ]
    for tool in card:
        lines += ["#" + line if line.startswith("## ") else line for line in _section(tool)]
    return "\n".join(lines).rstrip() + "\n"
