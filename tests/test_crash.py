"""Crash safety: a server killed with SIGKILL at any point of a job's life loses nothing.

Each trial starts a real `seedance-mcp` over stdio, asks for a video, and kills the process at one point:
inside fal's submit handler (the job exists, its answer is never delivered), when the status stream
opens, when the result is fetched, or after a delay that lands in the queue, in generation or after.
Then one new server reads the same ledger, and every job fal holds must be traceable: in the ledger with
its request id (and finished by get_job), or, when the process died before fal's answer arrived, as a
submit attempt still marked `sending`. No prompt may reach fal twice.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import StdioServerParameters
from mcp.client.stdio import stdio_client

from server.ledger import Ledger
from tests.conftest import CANARY_KEY, RecordingClient, subprocess_env
from tests.fake_fal import FakeFal, Phase
from tests.test_stdio import command

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

PLAN = [
    Phase("IN_QUEUE", 0.15, queue_position=1),
    Phase("IN_QUEUE", 0.15, queue_position=0),
    Phase("IN_PROGRESS", 0.25, log="loading model"),
    Phase("IN_PROGRESS", 0.25, log="generating frames"),
]
EVENTS = ["submit", "stream", "result"] * 3
DELAYS = [round(0.05 * i, 2) for i in range(24)]  # 0 to 1.15 s: before submit, queued, generating, done
TRIALS: list[tuple[str, float]] = [(event, 0.0) for event in EVENTS] + [("delay", d) for d in DELAYS]


def server(fake: FakeFal, home: Path, pidfile: Path, errlog: Any) -> Any:
    env = subprocess_env(home.parent, FAL_KEY=CANARY_KEY, SEEDANCE_FAL_QUEUE_URL=fake.url, SEEDANCE_HOME=str(home))
    script = f"echo $$ > {pidfile}; exec {command()}"
    return stdio_client(StdioServerParameters(command="/bin/sh", args=["-c", script], env=env), errlog=errlog)


def kill(pidfile: Path) -> None:
    with contextlib.suppress(ProcessLookupError, FileNotFoundError):
        os.kill(int(pidfile.read_text()), signal.SIGKILL)


async def run_trial(fake: FakeFal, home: Path, tmp: Path, number: int, event: str, delay: float) -> None:
    pidfile = tmp / f"server-{number}.pid"
    fake.on_event = (lambda seen: kill(pidfile) if seen == event else None) if event != "delay" else None
    with (tmp / "stderr.log").open("a") as errlog:
        try:
            with anyio.fail_after(15):
                async with (
                    RecordingClient(server(fake, home, pidfile, errlog)) as client,
                    anyio.create_task_group() as tg,
                ):
                    tg.start_soon(client.call_tool, "generate_text_video", {"prompt": f"trial {number}"})
                    if event == "delay":
                        await anyio.sleep(delay)
                        kill(pidfile)
        except Exception:  # the connection dies with the server, as a client sees it
            pass
    fake.on_event = None
    kill(pidfile)


async def test_a_server_killed_at_any_point_of_a_job_loses_nothing(fake_fal: FakeFal, tmp_path: Path):
    fake_fal.plan = PLAN
    home = tmp_path / "home"
    for number, (event, delay) in enumerate(TRIALS):
        await run_trial(fake_fal, home, tmp_path, number, event, delay)
    assert len(TRIALS) >= 30

    ledger = Ledger(home / "jobs.sqlite3")
    try:
        known = {record.request_id for record in ledger.recent(limit=1000)}
    finally:
        ledger.close()
    db = sqlite3.connect(home / "jobs.sqlite3")
    sending = {
        json.loads(row[0])["prompt"]
        for row in db.execute("SELECT arguments FROM submissions WHERE outcome = 'sending'")
    }
    fal_jobs = list(fake_fal.jobs.values())
    prompts = [job.input["prompt"] for job in fal_jobs]
    assert len(prompts) == len(set(prompts)), "a prompt reached fal twice: a double submission"
    untracked = [job for job in fal_jobs if job.request_id not in known]
    assert all(job.input["prompt"] in sending for job in untracked), "a job fal accepted left no trace in the ledger"
    assert {job.request_id for job in fal_jobs} >= known

    finished: dict[str, str] = {}
    with (tmp_path / "stderr.log").open("a") as errlog:
        async with RecordingClient(server(fake_fal, home, tmp_path / "final.pid", errlog)) as client:
            for request_id in sorted(known):
                result = await client.call_tool("get_job", {"request_id": request_id, "wait_seconds": 10})
                finished[request_id] = (result.structured_content or {}).get("status", "missing")
    assert set(finished.values()) == {"completed"}, finished
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    print(
        f"crash trials: {len(TRIALS)}, jobs at fal: {len(fal_jobs)}, in the ledger: {len(known)}, "
        f"died before fal's answer arrived: {len(untracked)}, lost: 0, double submissions: 0"
    )
