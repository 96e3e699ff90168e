"""Server start: spawn over stdio until the handshake's answer, for the server as shipped and its comparisons.

Both handshakes are timed: `initialize` (2025-11-25 clients) and `server/discover` (2026-07-28 clients).

- shipped: `seedance-mcp` with no key (the local preview backend, renderer imported lazily)
- fal: `seedance-mcp` with a key (no preview ever rendered)
- renderer imported eagerly: the same server after `import av, numpy, PIL`, i.e. what laziness saves
- minimal MCPServer: one tool, the floor any server pays
"""

from __future__ import annotations

import compileall
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

RUNS = 21  # interleaved pairs: medians of fewer moved by ±5% from run to run on this machine
HANDSHAKES = {"initialize": "legacy", "server/discover": "auto"}  # Client mode: auto asks server/discover first
GOAL = 1.10
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


async def _handshake(command: str, args: list[str], env: dict[str, str], mode: str) -> float:
    params = StdioServerParameters(command=command, args=args, env=env)
    with open(os.devnull, "w") as devnull:
        started = time.perf_counter()
        async with Client(stdio_client(params, errlog=devnull), mode=mode):
            return time.perf_counter() - started  # entered once the handshake was answered


def _compile_bytecode() -> None:
    """As after a first launch: where PYTHONDONTWRITEBYTECODE is set, every start would compile the sources."""
    root = Path(__file__).resolve().parent.parent
    for package in ("server", "tools"):
        compileall.compile_dir(root / package, quiet=1)


async def _measure() -> list[dict[str, Any]]:
    _compile_bytecode()
    with tempfile.TemporaryDirectory() as home:
        variants = _variants(home)
        samples = {(name, shake): [] for name in variants for shake in HANDSHAKES}  # type: ignore[var-annotated]
        for _ in range(RUNS):  # interleaved, so machine noise falls on every variant alike
            for (name, shake), times in samples.items():
                command, args, env = variants[name]
                times.append(await _handshake(command, args, env, HANDSHAKES[shake]))
    rows = []
    for (name, shake), times in samples.items():
        floor = statistics.median(samples[("minimal MCPServer, one tool", shake)])
        rows.append(
            {
                "server": name,
                "handshake": shake,
                "median_ms": round(statistics.median(times) * 1000),
                "vs_minimal": round(statistics.median(times) / floor, 2),
                "goal": f"<= {GOAL}x" if name.startswith("seedance-mcp (") else "",
            }
        )
    return rows


def measure() -> list[dict[str, Any]]:
    return anyio.run(_measure)
