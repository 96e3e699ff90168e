"""The official MCP Tasks client (`@modelcontextprotocol/ext-tasks`, tests/tasks_client) against the server,
in both protocol eras, over streamable HTTP and stdio, against the fake fal.

The client runs in Node.js (`driver.mjs`), one command a line; each answer is awaited for a bounded time.
The fake holds every job in its queue until the test lets it go, so nothing here waits on a clock.
"""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CANARY_KEY, npm_ci, subprocess_env
from tests.fake_fal import FakeFal, Phase, quick_plan
from tests.http_servers import replicas, start
from tests.postgres import PostgresServer
from tests.test_stdio import command

pytestmark = pytest.mark.slow  # a server and a Node.js client in processes of their own

FOLDER = Path(__file__).parent / "tasks_client"
ANSWER_SECONDS = 120.0  # a bound on one answer; each comes in about a second
CALL = {"prompt": "a lighthouse in a storm", "duration": "5", "aspect_ratio": "16:9"}
HELD = [Phase("IN_QUEUE", None, queue_position=1)]
OTHER_ERA = {"modern": "tasks/result", "legacy": "tasks/update"}  # a method the other era has and this one not


class Driver:
    """The Tasks client in its own process: one command in, one answer out."""

    def __init__(self, config: dict[str, Any], log: Path, server: subprocess.Popen[bytes] | None) -> None:
        self.server = server  # the server's process, when it is not the client's own (stdio)
        node = shutil.which("node")
        assert node, "these tests need Node.js"
        self._log = log.open("a")
        self.process = subprocess.Popen(
            [node, "driver.mjs", json.dumps(config)],
            cwd=npm_ci(FOLDER, ("@modelcontextprotocol/ext-tasks", "@modelcontextprotocol/client")),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        self._answers: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._answers.put(line)

    def __call__(self, **order: Any) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(order) + "\n")
        self.process.stdin.flush()
        answer: dict[str, Any] = json.loads(self._answers.get(timeout=ANSWER_SECONDS))
        return answer

    def __enter__(self) -> Driver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self._reader.join(timeout=30)  # the client's output has ended with it
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._log.close()


def until(client: Driver, task_id: str, wanted: Any) -> dict[str, Any]:
    """The task as tasks/get answers it, asked again until the answer is the one wanted (within ANSWER_SECONDS)."""
    deadline = time.monotonic() + ANSWER_SECONDS
    while not wanted(seen := client(do="snapshot", taskId=task_id)):
        assert time.monotonic() < deadline, f"the task never became what was wanted: {seen}"
        time.sleep(0.05)
    return seen


@contextmanager
def tasks_client(era: str, transport: str, fake: FakeFal, folder: Path) -> Iterator[Driver]:
    """The client in `era`, connected to a server over `transport` (a process of its own either way)."""
    server = None
    if transport == "http":
        server, port = start(fake, folder / "server")
        assert server.poll() is None, (folder / "server" / "stderr.log").read_text()
        config: dict[str, Any] = {"era": era, "url": f"http://127.0.0.1:{port}/mcp"}
    else:
        env = subprocess_env(folder, FAL_KEY=CANARY_KEY, SEEDANCE_FAL_QUEUE_URL=fake.url)
        config = {"era": era, "command": command(), "env": env}
    driver = Driver(config, folder / "client.log", server)
    try:
        yield driver
    finally:
        driver.close()
        if server is not None and server.poll() is None:
            server.terminate()
            server.wait(timeout=20)


@pytest.mark.parametrize("transport", ["http", "stdio"])
@pytest.mark.parametrize("era", ["modern", "legacy"])
def test_the_tasks_client_follows_cancels_and_is_refused_as_the_spec_says(
    era: str, transport: str, fake_fal: FakeFal, tmp_path: Path
):
    fake_fal.plan = [*HELD, Phase("IN_PROGRESS", None, log="generating frames")]
    with tasks_client(era, transport, fake_fal, tmp_path) as client:
        started = client(do="call", arguments=CALL)
        assert started.get("kind") == "task", started
        job = fake_fal.only_job()
        task = started["task"]
        task_ref = {"taskId": task["taskId"]}
        fake_fal.advance(job.request_id)  # now generating: the task says so
        generating = until(client, task["taskId"], lambda seen: seen["statusMessage"].startswith("generating"))
        fake_fal.advance(job.request_id)
        settled = client(do="settle")
        ended = client(do="snapshot", taskId=task["taskId"])
        get_job = {"name": "get_job", "arguments": {"request_id": job.request_id}}
        plain_view = client(do="raw", request={"method": "tools/call", "params": get_job}, bare=True)
        fake_fal.plan = list(HELD)

        second = client(do="call", arguments={**CALL, "prompt": "a second storm"})
        cancelled = client(do="cancel", taskId=second["task"]["taskId"])
        unknown = client(do="raw", request={"method": "tasks/get", "params": {"taskId": "no-such-task"}})
        refusals = {
            "undeclared": client(do="raw", request={"method": "tasks/get", "params": task_ref}, bare=True),
            "other era": client(do="raw", request={"method": OTHER_ERA[era], "params": task_ref}),
        }
        fake_fal.plan = quick_plan()
        call = {"name": "generate_text_video", "arguments": {**CALL, "prompt": "no task wanted"}}
        plain = client(do="raw", request={"method": "tools/call", "params": call}, bare=True)
    assert started["kind"] == "task", started
    assert task["status"] == "working" and len(task["taskId"]) >= 16, task
    assert task["statusMessage"].startswith("queued"), task
    assert "generating frames" in generating["statusMessage"], generating
    result = settled["result"]
    assert result["structuredContent"] == plain_view["result"]["structuredContent"]  # the plain call's result
    assert result["structuredContent"]["request_id"] == job.request_id, settled
    assert result["structuredContent"]["status"] == "completed"
    assert any(block.get("type") == "resource_link" for block in result["content"])
    assert ended["status"] == "completed", ended
    assert cancelled["status"] == "cancelled", cancelled
    assert fake_fal.count("cancel") == 1
    assert unknown["error"]["code"] == -32602, unknown
    if era == "modern":  # the spec's codes: -32021 for a request that did not declare tasks, -32601 for 2025's methods
        assert refusals["undeclared"]["error"]["code"] == -32021, refusals
        assert refusals["other era"]["error"]["code"] == -32601, refusals
    else:  # 2025-11-25 has no capability to declare, and no tasks/update
        assert refusals["undeclared"]["result"]["status"] == "completed", refusals
        assert refusals["other era"]["error"]["code"] == -32601, refusals
    assert plain["result"]["structuredContent"]["status"] == "completed", plain  # not asked for: today's answer
    assert fake_fal.count("submit") == 3  # the task, the cancelled one and the plain call: nothing twice


@pytest.mark.parametrize("era", ["modern", "legacy"])
def test_a_task_survives_its_server_being_killed_and_ends_on_the_next_one_with_one_submit(
    era: str, fake_fal: FakeFal, tmp_path: Path
):
    fake_fal.plan = list(HELD)
    with tasks_client(era, "http", fake_fal, tmp_path) as client:
        started = client(do="call", arguments=CALL)
        reference = client(do="handoff")["reference"]
        assert client.server is not None
        client.server.kill()  # SIGKILL: the server has no chance to tidy up
        client.server.wait(timeout=20)
    job = fake_fal.only_job()
    fake_fal.advance(job.request_id)
    with tasks_client(era, "http", fake_fal, tmp_path) as client:  # the same home: the same ledger
        resumed = client(do="resume", reference=reference)
    assert started["kind"] == "task", started
    assert resumed["result"]["structuredContent"]["request_id"] == job.request_id, resumed
    assert fake_fal.count("submit") == 1


@pytest.mark.parametrize("era", ["modern", "legacy"])
def test_on_postgresql_a_task_started_on_one_replica_is_read_and_cancelled_on_another(
    era: str, fake_fal: FakeFal, tmp_path: Path, postgres: PostgresServer
):
    fake_fal.plan = list(HELD)
    with replicas(fake_fal, tmp_path, postgres.fresh_database(), count=2) as (first, second):
        with Driver({"era": era, "url": first.url}, tmp_path / "first.log", None) as one:
            task_ref = {"taskId": one(do="call", arguments=CALL)["task"]["taskId"]}
        with Driver({"era": era, "url": second.url}, tmp_path / "second.log", None) as other:
            read = other(do="raw", request={"method": "tasks/get", "params": task_ref})
            other(do="raw", request={"method": "tasks/cancel", "params": task_ref})
            after = other(do="raw", request={"method": "tasks/get", "params": task_ref})
    assert read["result"]["status"] == "working", read
    assert after["result"]["status"] == "cancelled", after
    assert fake_fal.count("cancel") == 1 and fake_fal.count("submit") == 1
