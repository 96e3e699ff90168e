"""The latency the server adds, against fal's own client polling every 0.1 s, both on the same fake.

- status to notification: from the moment the fake moves a job from IN_QUEUE to IN_PROGRESS to the
  progress notification ("generating ...") reaching the MCP client; for fal's client, to its
  `on_queue_update` call with `InProgress`.
- completion to result: from the moment the fake marks the job COMPLETED to the tool result reaching
  the client (with the video saved and its poster made, and with SEEDANCE_DOWNLOAD=0); for fal's client,
  to `subscribe` returning.

The fake lives in this process, so both ends are read on one clock; the server runs over stdio, as a
desktop client starts it. The fake looks at its jobs every millisecond, so it adds at most that.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anyio
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from bench.fake import ARGUMENTS, KEY, job_plan, official
from server.demo import server_command
from tests.fake_fal import FakeFal

RUNS = 15
PHASE_SECONDS = (0.25, 0.45)  # each phase's length is drawn from this range, so that no client's polls line up
GOAL_MS = 20


@contextmanager
def _server_params(fake: FakeFal, **env: str) -> Iterator[StdioServerParameters]:
    command, args = server_command()
    with tempfile.TemporaryDirectory() as home:
        base = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": home,
            "SEEDANCE_HOME": home,
            "SEEDANCE_OUTPUT_DIR": f"{home}/videos",
            "FAL_KEY": KEY,
            "SEEDANCE_FAL_QUEUE_URL": fake.url,
            "SEEDANCE_DEDUP_SECONDS": "0",
            "SEEDANCE_CONFIRM_ABOVE_USD": "1000",
            "SEEDANCE_LOG_LEVEL": "WARNING",
        }
        yield StdioServerParameters(command=command, args=args, env={**base, **env})


class FirstStart:
    """When a client first heard that the job is generating: a progress callback, or fal's status callback."""

    def __init__(self) -> None:
        self.at: float | None = None

    def mark(self) -> None:
        if self.at is None:
            self.at = time.monotonic()

    async def on_progress(self, progress: float, total: float | None, message: str | None) -> None:
        if message and message.startswith("generating"):
            self.mark()

    def on_status(self, status: Any) -> None:
        import fal_client

        if isinstance(status, fal_client.InProgress):
            self.mark()

    def after(self, moment: float) -> float:
        assert self.at is not None, "the client never heard that the job started"
        return self.at - moment


def _prepare(fake: FakeFal) -> None:
    fake.reset()
    fake.plan = job_plan(random.uniform(*PHASE_SECONDS), random.uniform(*PHASE_SECONDS))
    fake.stream_tick = 0.001


async def _ours(fake: FakeFal, params: StdioServerParameters) -> tuple[list[float], list[float]]:
    to_notice, to_result = [], []
    with open(os.devnull, "w") as devnull:
        async with Client(stdio_client(params, errlog=devnull)) as client:
            for _ in range(RUNS):
                _prepare(fake)
                started = FirstStart()
                result = await client.call_tool("generate_text_video", ARGUMENTS, progress_callback=started.on_progress)
                returned = time.monotonic()
                job = result.structured_content or {}
                changes = dict(fake.job(job["request_id"]).changes)
                to_notice.append(started.after(changes["IN_PROGRESS"]))
                to_result.append(returned - changes["COMPLETED"])
    return to_notice, to_result


async def _official(fake: FakeFal) -> tuple[list[float], list[float]]:
    to_notice, to_result = [], []
    for _ in range(RUNS):
        _prepare(fake)
        started = FirstStart()
        await official(fake, interval=0.1, on_update=started.on_status)
        returned = time.monotonic()
        changes = dict(fake.only_job().changes)
        to_notice.append(started.after(changes["IN_PROGRESS"]))
        to_result.append(returned - changes["COMPLETED"])
    return to_notice, to_result


def _ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 1)


async def _measure(fake: FakeFal) -> list[dict[str, Any]]:
    with _server_params(fake) as saving, _server_params(fake, SEEDANCE_DOWNLOAD="0") as plain:
        notice, result = await _ours(fake, saving)
        _, result_plain = await _ours(fake, plain)
    their_notice, their_result = await _official(fake)
    return [
        {
            "measure": "status change to progress notification",
            "seedance-mcp_ms": _ms(notice),
            "fal_client_0.1s_polling_ms": _ms(their_notice),
            "goal_ms": GOAL_MS,
        },
        {
            "measure": "completion to result (video saved, poster made)",
            "seedance-mcp_ms": _ms(result),
            "fal_client_0.1s_polling_ms": _ms(their_result),
            "goal_ms": GOAL_MS,
        },
        {
            "measure": "completion to result (SEEDANCE_DOWNLOAD=0)",
            "seedance-mcp_ms": _ms(result_plain),
            "fal_client_0.1s_polling_ms": _ms(their_result),
            "goal_ms": GOAL_MS,
        },
    ]


def measure(fake: FakeFal) -> list[dict[str, Any]]:
    return anyio.run(_measure, fake)
