"""The tools load in the agent SDKs that turn MCP tools into their own, with those SDKs' own converters.

google-genai's `mcp_to_gemini_tool` (what it runs when a `ClientSession` is passed as a tool) once failed on
every tool, reading the boolean `additionalProperties: false` as a schema. OpenAI Agents' strict mode
(`MCPUtil.to_function_tool(..., convert_schemas_to_strict=True)`) falls back to a loose tool, with no error,
when a schema cannot be made strict: so a test checks that each tool came out strict.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from agents.mcp import MCPServerStdio, MCPUtil
from agents.strict_schema import ensure_strict_json_schema
from google.genai._mcp_utils import mcp_to_gemini_tool

import tools
from server.settings import Settings
from tests.conftest import connect, subprocess_env, text_of
from tests.fake_fal import FakeFal
from tests.test_stdio import command

pytestmark = pytest.mark.anyio


def _gemini_names(listed: list[Any]) -> list[str]:
    converted = [mcp_to_gemini_tool(tool) for tool in listed]
    return [str(declaration.name) for tool in converted for declaration in tool.function_declarations or []]


async def test_every_tool_converts_with_google_genai_and_openai_strict(settings: Settings):
    async with connect(settings) as client:
        listed = (await client.list_tools()).tools
    every = [tool.parameters for tool in tools.ALL]  # the job card's own tools too, which most clients never see
    assert len(listed) >= 11 and len(every) > len(listed)
    assert _gemini_names(listed) == [tool.name for tool in listed]
    for schema in every:
        strict = ensure_strict_json_schema(copy.deepcopy(dict(schema)), _reject_open_objects=True)  # it edits in place
        assert strict["additionalProperties"] is False


async def test_an_unknown_argument_is_still_refused_with_the_closest_name(settings: Settings, fake_fal: FakeFal):
    """The schema no longer says it, so the server's own check must: nothing is sent, and the fix is named."""
    async with connect(settings) as client:
        result = await client.call_tool("generate_text_video", {"prompt": "a kite", "duraton": "5"})
    text = text_of(result)
    assert result.is_error and "`duraton`: not a parameter of generate_text_video" in text, text
    assert "did you mean `duration`?" in text and fake_fal.requests == []


@pytest.mark.slow  # the server in its own process, as each SDK starts it
async def test_openai_agents_over_stdio_makes_every_tool_strict_and_calls_one(tmp_path: Path):
    env = subprocess_env(tmp_path)
    async with MCPServerStdio(params={"command": command(), "env": env}, client_session_timeout_seconds=60) as server:
        listed = await server.list_tools()
        made = [MCPUtil.to_function_tool(tool, server, convert_schemas_to_strict=True) for tool in listed]
        estimate = await server.call_tool("estimate_cost", {"mode": "text-to-video", "duration": "5"})
    assert [tool.name for tool in made] == [tool.name for tool in listed] and len(made) >= 11
    assert all(tool.strict_json_schema for tool in made), [tool.name for tool in made if not tool.strict_json_schema]
    assert _gemini_names(listed) == [tool.name for tool in listed]
    assert not estimate.is_error and "$" in text_of(estimate)
