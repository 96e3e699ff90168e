"""Requests to fal's queue per job, for jobs of 10 s, 60 s and 300 s, ours against fal's own client.

The fake plays each job `SPEED` times faster than real time, and both clients are slowed to match: fal's
client polls every 0.1 s / SPEED, and a generation call returns after 45 s / SPEED (the server's default
wait) so the model follows the job with get_job, as it does with a long job.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path
from typing import Any

import anyio

from bench.fake import job_plan, official, ours, settings_for
from tests.fake_fal import FakeFal

SPEED = 30.0
LENGTHS = (10, 60, 300)
RUNS = 3
QUEUED = 2.0  # seconds of each job spent in the queue
GOAL = 4


async def _measure(fake: FakeFal) -> list[dict[str, Any]]:
    rows = []
    with tempfile.TemporaryDirectory() as home:
        for seconds in LENGTHS:
            counts: dict[str, list[int]] = {"ours": [], "official": []}
            for run in range(RUNS):
                for who in counts:
                    fake.reset()
                    fake.plan = job_plan(QUEUED / SPEED, (seconds - QUEUED) / SPEED)
                    fake.ping_seconds = 15 / SPEED  # fal pings the stream every 15 s
                    if who == "ours":
                        settings = settings_for(fake, Path(home) / f"{seconds}-{run}", wait_seconds=45 / SPEED)
                        await ours(settings)
                    else:
                        await official(fake, interval=0.1 / SPEED, on_update=lambda status: None)
                    counts[who].append(fake.count())
            ours_count = statistics.median(counts["ours"])
            theirs = statistics.median(counts["official"])
            rows.append(
                {
                    "job": f"{seconds} s",
                    "seedance-mcp": int(ours_count),
                    "fal_client.subscribe": int(theirs),
                    "fal_client at real speed": f"~{int(seconds / 0.1) + 2} (one status poll every 0.1 s)",
                    "ratio": round(theirs / ours_count, 1),
                    "goal": f"ours <= {GOAL}, constant",
                }
            )
    return rows


def measure(fake: FakeFal) -> list[dict[str, Any]]:
    return anyio.run(_measure, fake)
