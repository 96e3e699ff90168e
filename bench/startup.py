"""Server start: spawn over stdio until the `initialize` answer, for the server as shipped and its comparisons.

- shipped: `seedance-mcp` with no key (the local preview backend, renderer imported lazily)
- fal: `seedance-mcp` with a key (no preview ever rendered)
- renderer imported eagerly: the same server after `import av, numpy, PIL`, i.e. what laziness saves
- minimal MCPServer: one tool, the floor any server pays
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

RUNS = 7
MINIMAL = """
from mcp.server import MCPServer
server = MCPServer("minimal")
@server.tool()
def ping() -> str:
    return "pong"
server.run()
"""
EAGER = "import av, numpy, PIL.Image\nfrom server.cli import main\nmain([])\n"


def _variants(home: str) -> dict[str, tuple[str, list[str], dict[str, str]]]:
    script = shutil.which("seedance-mcp", path=str(Path(sys.executable).parent)) or "seedance-mcp"
    base = {"PATH": os.environ.get("PATH", ""), "SEEDANCE_HOME": home}
    return {
        "seedance-mcp (local preview backend)": (script, [], base),
        "seedance-mcp with FAL_KEY (fal backend)": (script, [], {**base, "FAL_KEY": "bench-not-a-key"}),
        "seedance-mcp with the renderer imported eagerly": (sys.executable, ["-c", EAGER], base),
        "minimal MCPServer, one tool": (sys.executable, ["-c", MINIMAL], base),
    }


async def _initialize(command: str, args: list[str], env: dict[str, str]) -> float:
    params = StdioServerParameters(command=command, args=args, env=env)
    with open(os.devnull, "w") as devnull:
        started = time.perf_counter()
        async with Client(stdio_client(params, errlog=devnull), mode="legacy"):  # returns once initialize answered
            return time.perf_counter() - started


async def _measure() -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as home:
        variants = _variants(home)
        samples: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(RUNS):  # interleaved, so machine noise falls on every variant alike
            for name, (command, args, env) in variants.items():
                samples[name].append(await _initialize(command, args, env))
    floor = statistics.median(samples["minimal MCPServer, one tool"])
    return [
        {
            "server": name,
            "median_ms": round(statistics.median(s) * 1000),
            "vs_minimal": round(statistics.median(s) / floor, 2),
        }
        for name, s in samples.items()
    ]


def measure() -> list[dict[str, Any]]:
    return anyio.run(_measure)
