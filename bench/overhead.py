"""What a round trip to the server costs over stdio: `tools/list` and an `estimate_cost` call, against the
same two requests to a minimal MCPServer with one tool (its `ping` call)."""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from bench.startup import MINIMAL
from server.demo import server_command

CALLS = 50
ESTIMATE = {"mode": "text-to-video", "duration": "5", "aspect_ratio": "16:9"}


async def _median_ms(request: Callable[[], Awaitable[Any]]) -> float:
    await request()  # the first of each is warm-up
    samples = []
    for _ in range(CALLS):
        started = time.perf_counter()
        await request()
        samples.append(time.perf_counter() - started)
    return round(statistics.median(samples) * 1000, 2)


async def _round_trips(params: StdioServerParameters, tool: str, arguments: dict[str, Any]) -> tuple[float, float]:
    with open(os.devnull, "w") as devnull:
        async with Client(stdio_client(params, errlog=devnull)) as client:
            listing = await _median_ms(client.list_tools)
            call = await _median_ms(lambda: client.call_tool(tool, arguments))
    return listing, call


async def _measure() -> list[dict[str, Any]]:
    command, args = server_command()
    with tempfile.TemporaryDirectory() as home:
        env = {"PATH": os.environ.get("PATH", ""), "HOME": home, "SEEDANCE_HOME": home, "SEEDANCE_LOG_LEVEL": "WARNING"}
        ours = await _round_trips(StdioServerParameters(command=command, args=args, env=env), "estimate_cost", ESTIMATE)
        floor = await _round_trips(
            StdioServerParameters(command=sys.executable, args=["-c", MINIMAL], env=env), "ping", {}
        )
    return [
        {
            "request": "tools/list",
            "seedance-mcp_ms": ours[0],
            "minimal_server_ms": floor[0],
            "ratio": round(ours[0] / floor[0], 2),
        },
        {
            "request": "tools/call (estimate_cost vs ping)",
            "seedance-mcp_ms": ours[1],
            "minimal_server_ms": floor[1],
            "ratio": round(ours[1] / floor[1], 2),
        },
    ]


def measure() -> list[dict[str, Any]]:
    return anyio.run(_measure)
