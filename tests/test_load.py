"""Load: 200 generation calls at once through one server process, each getting its own result.

Jobs are held in progress for a while so that all 200 wait together; the server's own CPU time over that
window, its peak memory and the wall time are printed (the README's Reliability figures come from here).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import StdioServerParameters
from mcp.client.stdio import stdio_client

from bench.proc import cpu_seconds, peak_mb
from server.preview.render import RenderSpec, render
from tests.conftest import CANARY_KEY, RecordingClient, subprocess_env, text_of
from tests.fake_fal import FakeFal, Phase
from tests.test_stdio import command

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

CALLS = 200
HOLD_SECONDS = 10.0


@pytest.fixture
def small_clip(fake_fal: FakeFal, tmp_path: Path) -> Iterator[None]:
    """A small clip for every job: what is judged is that each call gets its own job, not the video, and the
    200 posters of the session's 864x496 clip would cost the suite about half a minute of CPU."""
    shared, path = fake_fal.video, tmp_path / "small.mp4"
    render(RenderSpec("text-to-video", "small", 320, 180, 2, True, seed=1), path)
    fake_fal.video = path.read_bytes()
    yield
    fake_fal.video = shared


@pytest.mark.usefixtures("small_clip")
async def test_200_calls_at_once_each_get_their_own_result(fake_fal: FakeFal, tmp_path: Path):
    fake_fal.plan = [Phase("IN_QUEUE", 0.2, queue_position=0), Phase("IN_PROGRESS", None, log="rendering")]
    fake_fal.ping_seconds = 15  # as fal does
    pidfile = tmp_path / "server.pid"
    env = subprocess_env(tmp_path, FAL_KEY=CANARY_KEY, SEEDANCE_FAL_QUEUE_URL=fake_fal.url, SEEDANCE_WAIT_SECONDS="600")
    params = StdioServerParameters(command="/bin/sh", args=["-c", f"echo $$ > {pidfile}; exec {command()}"], env=env)
    results: dict[int, Any] = {}
    with (tmp_path / "stderr.log").open("w") as errlog:
        async with RecordingClient(stdio_client(params, errlog=errlog)) as client:
            pid = int(pidfile.read_text())

            async def call(number: int) -> None:
                arguments = {"prompt": f"load job {number}", "duration": "4"}
                results[number] = await client.call_tool("generate_text_video", arguments)

            started = time.monotonic()
            async with anyio.create_task_group() as tg:
                for number in range(CALLS):
                    tg.start_soon(call, number)
                with anyio.fail_after(600):  # a bound only a hang reaches: each call waits on its own job
                    while sum(1 for job in list(fake_fal.jobs.values()) if job.started) < CALLS:
                        await anyio.sleep(0.1)
                all_waiting = time.monotonic()
                cpu_before = cpu_seconds(pid)
                await anyio.sleep(HOLD_SECONDS)
                cpu_waiting = cpu_seconds(pid) - cpu_before
                for request_id in list(fake_fal.jobs):
                    fake_fal.advance(request_id)
            finished = time.monotonic()
            peak = peak_mb(pid)

    assert len(results) == CALLS
    for number, result in results.items():
        job = result.structured_content
        assert job is not None and job["status"] == "completed", text_of(result)
        assert fake_fal.jobs[job["request_id"]].input["prompt"] == f"load job {number}", "a call got another's result"
    assert fake_fal.count("submit") == CALLS
    figures = {
        "calls": CALLS,
        "wall_s": round(finished - started, 2),
        "submit_to_all_waiting_s": round(all_waiting - started, 2),
        "held_s": HOLD_SECONDS,
        "wall_minus_hold_s": round(finished - started - HOLD_SECONDS, 2),
        "server_peak_rss_mb": round(peak, 1),
        "server_cpu_s_while_waiting": round(cpu_waiting, 2),
        "server_cpu_s_per_minute_waiting": round(cpu_waiting * 60 / HOLD_SECONDS, 2),
    }
    print("load:", json.dumps(figures))
    assert peak < 300
