"""200 jobs in flight in one server process over stdio: its peak memory, the CPU it spends while all of
them wait, and the wall time for all 200 against the slowest single job.

Jobs are held in progress for `HOLD_SECONDS` with the fake pinging each status stream every 15 s, as fal
does; the server's CPU is read from /proc over that window.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from bench.fake import KEY
from bench.proc import cpu_seconds, peak_mb
from server.demo import server_command
from tests.fake_fal import FakeFal, Phase

JOBS = 200
HOLD_SECONDS = 10.0
GOAL_MB = 150
GOAL_CPU_PER_MINUTE = 1.0


async def _measure(fake: FakeFal) -> dict[str, Any]:
    fake.reset()
    fake.plan = [Phase("IN_QUEUE", 0.2, queue_position=0), Phase("IN_PROGRESS", None, log="rendering")]
    fake.ping_seconds = 15
    command, args = server_command()
    with tempfile.TemporaryDirectory() as home, open(os.devnull, "w") as devnull:
        pidfile = f"{home}/server.pid"
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": home,
            "SEEDANCE_HOME": home,
            "SEEDANCE_DOWNLOAD": "0",
            "FAL_KEY": KEY,
            "SEEDANCE_FAL_QUEUE_URL": fake.url,
            "SEEDANCE_WAIT_SECONDS": "120",
            "SEEDANCE_CONFIRM_ABOVE_USD": "1000",
            "SEEDANCE_LOG_LEVEL": "WARNING",
        }
        shell = f"echo $$ > {pidfile}; exec {' '.join([command, *args])}"
        params = StdioServerParameters(command="/bin/sh", args=["-c", shell], env=env)
        async with Client(stdio_client(params, errlog=devnull)) as client:
            pid = int(Path(pidfile).read_text())
            completed = 0

            async def call(number: int) -> None:
                nonlocal completed
                result = await client.call_tool("generate_text_video", {"prompt": f"job {number}", "duration": "4"})
                completed += (result.structured_content or {}).get("status") == "completed"

            started = time.monotonic()
            async with anyio.create_task_group() as tg:
                for number in range(JOBS):
                    tg.start_soon(call, number)
                with anyio.fail_after(60):
                    while sum(1 for job in list(fake.jobs.values()) if job.started) < JOBS:
                        await anyio.sleep(0.05)
                cpu_before = cpu_seconds(pid)
                await anyio.sleep(HOLD_SECONDS)
                cpu_waiting = cpu_seconds(pid) - cpu_before
                for request_id in list(fake.jobs):
                    fake.advance(request_id)
            wall = time.monotonic() - started
            peak = peak_mb(pid)
    slowest = max(dict(job.changes)["COMPLETED"] - job.submitted_at for job in fake.jobs.values())
    return {
        "jobs": JOBS,
        "completed": completed,
        "server_peak_rss_mb": round(peak, 1),
        "server_cpu_s_per_minute_waiting": round(cpu_waiting * 60 / HOLD_SECONDS, 2),
        "wall_s": round(wall, 2),
        "slowest_job_s": round(slowest, 2),
        "wall_vs_slowest_job": round(wall / slowest, 2),
        "goal": f"< {GOAL_MB} MB, < {GOAL_CPU_PER_MINUTE:g} CPU-s per minute of waiting",
    }


def measure(fake: FakeFal) -> dict[str, Any]:
    return anyio.run(_measure, fake)
