"""What a stdio start loads: a desktop client starts the server for every chat, and waits on its imports.

Checked by what the server process holds in `sys.modules` when it exits, never with a clock.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

import tools
from tests.conftest import CANARY_KEY, subprocess_env
from tools import define

pytestmark = [pytest.mark.anyio]

HEAVY = [
    "jwt",
    "uvicorn",
    "av",
    "PIL",
    "numpy",
    "httpcore2",
    "obstore",
    "server.transport.sign_in",
    "server.preview.render",
]
# The server as `seedance-mcp` runs it, writing the names of its modules when it exits.
RUN = """
import atexit, json, sys
atexit.register(lambda: open(sys.argv[1], "w").write(json.dumps(sorted(sys.modules))))
from server.cli import main
main([])
"""


async def _modules_after(tmp_path: Path, use: Callable[[Client], Awaitable[None]], **env: str) -> set[str]:
    """The modules the server process held when it exited, after a client used it as `use` does."""
    out = tmp_path / "modules.json"
    params = StdioServerParameters(
        command=sys.executable, args=["-c", RUN, str(out)], env=subprocess_env(tmp_path, **env)
    )
    with (tmp_path / "server.log").open("w") as errlog:
        async with Client(stdio_client(params, errlog=errlog), mode="legacy") as client:
            await use(client)
    return set(json.loads(out.read_text()))  # written at exit, which the client waited for


async def _list(client: Client) -> None:
    assert len((await client.list_tools()).tools) >= 10
    await client.list_prompts()


async def _preview(client: Client) -> None:
    done = await client.call_tool(
        "generate_text_video", {"prompt": "a paper boat on a pond", "duration": "4", "wait_seconds": 600}
    )
    assert not done.is_error and (done.structured_content or {}).get("status") == "completed"


@pytest.mark.parametrize("backend", ["offline preview", "fal"])
async def test_a_stdio_start_loads_none_of_the_heavy_modules(tmp_path: Path, backend: str):
    env = {"FAL_KEY": CANARY_KEY} if backend == "fal" else {}
    loaded = await _modules_after(tmp_path, _list, **env)
    assert {"server.app", "mcp.server", "tools"} <= loaded  # it did start, and list
    assert sorted(loaded & set(HEAVY)) == []
    assert sorted(name for name in loaded if name.startswith("tools.") and name != "tools.define") == []


async def test_a_tool_that_decodes_video_loads_the_decoder_then(tmp_path: Path):
    """The other side of the laziness: nothing is missing when it is needed (here, an offline preview)."""
    loaded = await _modules_after(tmp_path, _preview)
    assert {"av", "numpy", "PIL", "server.preview.render", "tools.generate_text_video"} <= loaded


def test_without_its_listing_the_server_lists_the_same_tools_from_their_modules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A copy of the source that lost tools/listing.json still serves every tool, only importing them at start."""
    monkeypatch.setattr(define, "LISTING", tmp_path / "no-listing.json")
    built = define.listed(tools.MODULES)
    assert [(t.name, t.parameters, t.output_schema) for t in built] == [
        (t.name, t.parameters, t.output_schema) for t in tools.ALL
    ]
