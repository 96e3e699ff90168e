"""Crash safety: a server killed with SIGKILL at any point of a job's life loses nothing, on every host.

Each trial starts a real `seedance-mcp` over stdio, asks for a video, and kills the process at one point:
inside the host's submit handler (the job exists, its answer is never delivered), when the status stream
opens or the status is polled, when the result is fetched, or after a delay, every 200 ms, that lands in the
queue, in generation or after. Then one new server reads the same ledger, and every job the host holds must be
traceable: in the ledger with its id (and finished by get_job), or, when the process died before the
host's answer arrived, as a submit attempt still marked `sending`. No prompt may reach the host twice.
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

from server.ledger.sqlite import SqliteLedger
from tests.conftest import CANARY_KEY, HANG_SECONDS, RecordingClient, subprocess_env
from tests.fake_fal import FakeFal, Phase
from tests.fake_hosts import FakeHost, Step
from tests.hosts import ArkHost, Host, RunflowHost
from tests.test_stdio import command

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

PLAN = [
    Phase("IN_QUEUE", 0.15, queue_position=1),
    Phase("IN_QUEUE", 0.15, queue_position=0),
    Phase("IN_PROGRESS", 0.25, log="loading model"),
    Phase("IN_PROGRESS", 0.25, log="generating frames"),
]
HOST_PLAN = [Step("queued", 0.3), Step("running", 0.5)]
DELAYS = [round(0.2 * i, 2) for i in range(7)]  # 0 to 1.2 s: before submit, queued, generating, done


def trials(host: Host) -> list[tuple[str, float]]:
    """Where each trial kills the server: at the host's events, three times each, then after each delay."""
    events = ["submit", "stream", "result"] if host.name == "fal" else ["submit", "status", "result"]
    return [(event, 0.0) for event in events * 3] + [("delay", d) for d in DELAYS]


def environment(host: Host, home: Path) -> dict[str, str]:
    """A server pointed at `host`'s fake: its key and its URL, nothing of the others'."""
    if isinstance(host, RunflowHost):
        where = {"RUNFLOW_API_KEY": CANARY_KEY, "SEEDANCE_RUNFLOW_URL": host.fake.url}
    elif isinstance(host, ArkHost):
        where = {"ARK_API_KEY": CANARY_KEY, "SEEDANCE_ARK_URL": host.fake.base_url}
    else:
        assert isinstance(host.fake, FakeFal)
        where = {"FAL_KEY": CANARY_KEY, "SEEDANCE_FAL_QUEUE_URL": host.fake.url}
    return subprocess_env(home.parent, SEEDANCE_HOME=str(home), **where)


def held_jobs(host: Host) -> dict[str, str]:
    """Every job the host holds: its id, and the prompt it was asked for."""
    fake = host.fake
    if isinstance(fake, FakeFal):
        return {job.request_id: job.input["prompt"] for job in fake.jobs.values()}
    assert isinstance(fake, FakeHost)
    if isinstance(host, RunflowHost):
        return {job.id: job.body["input"]["prompt"] for job in fake.jobs.values()}
    return {job.id: job.body["content"][0]["text"] for job in fake.jobs.values()}


def server(env: dict[str, str], pidfile: Path, errlog: Any) -> Any:
    script = f"echo $$ > {pidfile}; exec {command()}"
    return stdio_client(StdioServerParameters(command="/bin/sh", args=["-c", script], env=env), errlog=errlog)


def kill(pidfile: Path) -> None:
    with contextlib.suppress(ProcessLookupError, FileNotFoundError):
        os.kill(int(pidfile.read_text()), signal.SIGKILL)


async def run_trial(host: Host, home: Path, tmp: Path, number: int, event: str, delay: float) -> None:
    fake = host.fake
    pidfile = tmp / f"server-{number}.pid"
    fake.on_event = (lambda seen: kill(pidfile) if seen == event else None) if event != "delay" else None
    with (tmp / "stderr.log").open("a") as errlog:
        try:
            with anyio.fail_after(HANG_SECONDS):
                async with (
                    RecordingClient(server(environment(host, home), pidfile, errlog)) as client,
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


@pytest.mark.parametrize("host", ["fal", "runflow", "ark"], indirect=True)
async def test_a_server_killed_at_any_point_of_a_job_loses_nothing(host: Host, tmp_path: Path):
    if isinstance(host.fake, FakeFal):
        host.fake.plan = PLAN
    else:
        host.fake.plan = HOST_PLAN
    home = tmp_path / "home"
    for number, (event, delay) in enumerate(trials(host)):
        await run_trial(host, home, tmp_path, number, event, delay)
    assert len(trials(host)) == 16

    ledger = SqliteLedger(home / "jobs.sqlite3")
    try:
        known = {record.request_id for record in await ledger.recent(limit=1000)}
    finally:
        await ledger.close()
    db = sqlite3.connect(home / "jobs.sqlite3")
    sending = {
        json.loads(row[0])["prompt"]
        for row in db.execute("SELECT arguments FROM submissions WHERE outcome = 'sending'")
    }
    held = held_jobs(host)
    prompts = list(held.values())
    assert len(prompts) == len(set(prompts)), f"a prompt reached {host.name} twice: a double submission"
    untracked = [job_id for job_id in held if job_id not in known]
    assert all(held[job_id] in sending for job_id in untracked), "a job the host accepted left no trace"
    assert set(held) >= known

    finished: dict[str, str] = {}
    with (tmp_path / "stderr.log").open("a") as errlog:
        async with RecordingClient(server(environment(host, home), tmp_path / "final.pid", errlog)) as client:
            for request_id in sorted(known):
                result = await client.call_tool("get_job", {"request_id": request_id, "wait_seconds": 10})
                finished[request_id] = (result.structured_content or {}).get("status", "missing")
    assert set(finished.values()) == {"completed"}, finished
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    print(
        f"crash trials on {host.name}: {len(trials(host))}, jobs there: {len(held)}, in the ledger: {len(known)}, "
        f"died before the host's answer arrived: {len(untracked)}, lost: 0, double submissions: 0"
    )
