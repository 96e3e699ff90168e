"""Another person's latency while one person floods the team server.

Two replicas of `seedance-mcp --http` share one PostgreSQL ledger behind the tests' OpenID Connect provider.
Bob calls estimate_cost one call after another: first with the servers idle, then while Alice sends waves of
300 paid calls at once with force_new, half to each replica, without pause; Alice's client runs in a process
of its own. The figure is Bob's p90 during the flood against his p90 idle just before, the median of five
such pairs. Bob is a person of his own in each phase, so that his calls stay under the calls-a-minute limit.

Two configurations: the limits over HTTP as they come (5 jobs in flight, 120 calls a minute), and the same
with the calls-a-minute limit off, where every call of the flood reaches the in-flight check in the ledger.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio

from server.settings import HTTP_USER_MAX_JOBS_IN_FLIGHT
from tests.fake_fal import FakeFal, Phase
from tests.http_servers import mcp_over_http
from tests.postgres import postgres_server
from tests.signed_in import CHEAP, another_replica, signed_in_server

WAVE = 300
ROUNDS = 101  # Bob's calls in each phase: with one to warm up, under the default 120 a minute
GOAL = 2.0  # at most this many times his idle p90
REPEATS = 5  # pairs of phases, idle then flooded; the median pair's ratio is the figure
ESTIMATE = {"mode": "text-to-video", "duration": "5"}


def _p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


async def _bob(url: str, token: str) -> list[float]:
    latencies = []
    async with mcp_over_http(url, token=token, timeout=300) as client:
        await client.call_tool("estimate_cost", ESTIMATE)  # the connection and the token's keys, warmed
        for _ in range(ROUNDS):
            started = time.perf_counter()
            result = await client.call_tool("estimate_cost", ESTIMATE)
            latencies.append(time.perf_counter() - started)
            assert not result.is_error
    return latencies


async def _flood(urls: list[str], alice: str) -> None:
    """Alice's waves, one after another, until this process is stopped: run in a process of its own, so
    that its client's work does not slow Bob's client."""
    async with (
        mcp_over_http(urls[0], token=alice, timeout=300) as one,
        mcp_over_http(urls[1], token=alice, timeout=300) as two,
    ):

        async def call(n: int) -> None:
            arguments = {"prompt": f"wave {n}", "force_new": True, **CHEAP}
            await (one if n % 2 else two).call_tool("generate_text_video", arguments)

        n = 0
        while True:
            async with anyio.create_task_group() as wave:
                for _ in range(WAVE):
                    wave.start_soon(call, n)
                    n += 1
            print(n, flush=True)


CONFIGURATIONS = {
    "as they come": {"SEEDANCE_USER_MAX_JOBS_IN_FLIGHT": "", "SEEDANCE_USER_CALLS_PER_MINUTE": ""},
    "calls a minute off": {"SEEDANCE_USER_MAX_JOBS_IN_FLIGHT": "", "SEEDANCE_USER_CALLS_PER_MINUTE": "0"},
}


def measure(fake: FakeFal) -> list[dict[str, Any]]:
    fake.plan = [Phase("IN_QUEUE", 0.01, queue_position=0), Phase("IN_PROGRESS", None, log="generating")]
    rows = []
    for limits, env in CONFIGURATIONS.items():
        before = fake.count("submit")
        with postgres_server() as postgres, tempfile.TemporaryDirectory() as folder:
            env = {"SEEDANCE_DATABASE_URL": postgres.fresh_database(), "SEEDANCE_LOG_LEVEL": "INFO", **env}
            with (
                signed_in_server(fake, Path(folder) / "r1", **env) as served,
                another_replica(served, fake, Path(folder) / "r2", **env) as second,
            ):
                alice = served.idp.token("alice")
                bobs = iter(served.idp.token(f"person-{n}") for n in range(1, 2 * REPEATS + 1))
                pairs = [_pair([served.url, second], alice, next(bobs), next(bobs)) for _ in range(REPEATS)]
        rows += _rows(limits, pairs, fake.count("submit") - before)
    return rows


def _rows(limits: str, pairs: list[tuple[list[float], list[float], int]], submits: int) -> list[dict[str, Any]]:
    pairs.sort(key=lambda pair: _p(pair[1], 90) / _p(pair[0], 90))
    idle, during, flooded = pairs[len(pairs) // 2]  # the median pair, by its ratio
    ratio = _p(during, 90) / _p(idle, 90)
    rows = []
    for name, values in (("Bob, servers idle", idle), (f"Bob, while Alice floods ({flooded} calls)", during)):
        rows.append(
            {
                "limits": limits,
                "estimate_cost": name,
                "p50": f"{_p(values, 50) * 1000:.1f} ms",
                "p90": f"{_p(values, 90) * 1000:.1f} ms",
                "p90 vs idle": f"{_p(values, 90) / _p(idle, 90):.2f}x",
                "goal": "" if values is idle else f"{'met' if ratio <= GOAL else '**missed**'} (goal {GOAL:g}x)",
                "paid submits": "" if values is idle else f"{submits} (cap {HTTP_USER_MAX_JOBS_IN_FLIGHT})",
                "ratios of the runs": ""
                if values is idle
                else ", ".join(f"{_p(d, 90) / _p(i, 90):.2f}x" for i, d, _ in pairs),
            }
        )
    return rows


def _pair(urls: list[str], alice: str, bob: str, bob_later: str) -> tuple[list[float], list[float], int]:
    """Bob's latencies idle, then during a flood from a process of its own, and how many calls it made."""
    idle = anyio.run(_bob, urls[0], bob)
    flood = subprocess.Popen([sys.executable, "-m", "bench.flood", *urls, alice], stdout=subprocess.PIPE, text=True)
    try:
        assert flood.stdout is not None
        first = flood.stdout.readline()  # the first wave is in
        during = anyio.run(_bob, urls[0], bob_later)
        assert flood.poll() is None, "the flood stopped before Bob's calls ended"
    finally:
        flood.terminate()
        waves, _ = flood.communicate(timeout=60)
    return idle, during, int([line for line in [first, *waves.split()] if line.strip().isdigit()][-1])


if __name__ == "__main__":
    anyio.run(_flood, sys.argv[1:3], sys.argv[3])
