"""Generation calls as MCP tasks on 2026-07-28 (`io.modelcontextprotocol/tasks`), through a real MCP client.

The client here declares the extension and claims the `"task"` result shape with the SDK's own
`ClientExtension`: it keeps every answer it reads, then polls `tasks/get` (at the task's poll interval)
until the task ends. Every wait is for a state of the job at the fake, never for a stretch of time.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

import anyio
import httpx2
import pytest
from mcp.client.extension import ClaimContext, ClientExtension, ResultClaim
from mcp.shared.exceptions import MCPError
from mcp_types import (
    CallToolResult,
    GetTaskRequestParams,
    Request,
    Result,
)
from pydantic import ConfigDict, Field

from server.ledger.sqlite import SqliteLedger
from server.settings import Settings
from server.tasks import TASKS
from tests.conftest import connect, text_of
from tests.fake_fal import FakeFal, Phase
from tests.http_servers import LegacySession, start

pytestmark = pytest.mark.anyio

WAIT = 60  # a bound on waiting for a state, met in well under a second
CALL = {"prompt": "a lighthouse in a storm", "duration": "5", "aspect_ratio": "16:9"}


class Answer(Result):
    """Any answer, as it came: a created task, or what `tasks/get` said."""

    model_config = ConfigDict(extra="allow")

    def field(self, name: str) -> Any:
        return (self.model_extra or {}).get(name)


class Created(Answer):
    """The handle a tools/call answers with."""

    result_type: Literal["task"] = Field("task", alias="resultType")


class Following(ClientExtension):
    """A client of the tasks extension: every task answer is kept in `seen`, in order."""

    identifier = TASKS

    def __init__(self) -> None:
        self.seen: list[Answer] = []
        self.released = anyio.Event()  # set by the test once it has looked at the first answer

    def claims(self) -> list[ResultClaim[Any]]:
        return [ResultClaim(result_type="task", model=Created, resolve=self.follow)]

    async def follow(self, created: Created, ctx: ClaimContext) -> CallToolResult:
        self.seen.append(created)
        await self.released.wait()
        while True:
            answer = await get(ctx.session, str(created.field("taskId")))
            self.seen.append(answer)
            if answer.field("status") == "completed":
                return CallToolResult.model_validate(answer.field("result"))
            if answer.field("status") != "working":  # cancelled: the task carries no result
                return CallToolResult(content=[], is_error=True)
            await anyio.sleep(int(answer.field("pollIntervalMs")) / 1000)


async def first_answer(tasks: Following) -> Answer:
    with anyio.fail_after(WAIT):
        while not tasks.seen:
            await anyio.sleep(0.01)
    return tasks.seen[0]


async def until(client: Any, task_id: str, wanted: Callable[[Answer], bool]) -> Answer:
    """tasks/get, asked again until its answer is the one wanted (within WAIT)."""
    with anyio.fail_after(WAIT):
        while not wanted(answer := await get(client.session, task_id)):
            await anyio.sleep(0.02)
    return answer


async def get(session: Any, task_id: str, method: str = "tasks/get") -> Answer:
    request: Request[Any, Any] = Request(method=method, params=GetTaskRequestParams(task_id=task_id))
    answer: Answer = await session.send_request(request, Answer)
    return answer


async def test_an_opted_in_generation_is_a_task_that_ends_with_the_plain_calls_result(
    settings: Settings, fake_fal: FakeFal
):
    fake_fal.plan = [Phase("IN_QUEUE", None, queue_position=2), Phase("IN_PROGRESS", None, log="rendering")]
    tasks = Following()
    async with connect(settings, extensions=[tasks]) as client:
        async with anyio.create_task_group() as tg:
            done: list[CallToolResult] = []

            async def call() -> None:
                done.append(await client.call_tool("generate_text_video", CALL))

            tg.start_soon(call)
            created = await first_answer(tasks)  # back while the job is still held in the queue
            job = fake_fal.only_job()
            task_id = str(created.field("taskId"))
            fake_fal.advance(job.request_id)
            generating = await until(client, task_id, lambda a: str(a.field("statusMessage")).startswith("generating"))
            tasks.released.set()
            fake_fal.advance(job.request_id)
        plain = await client.call_tool("get_job", {"request_id": job.request_id})
    assert created.field("status") == "working" and len(str(created.field("taskId"))) >= 16
    assert created.field("ttlMs") > 0 and created.field("pollIntervalMs") > 0
    assert str(created.field("createdAt")).endswith("Z") and "result" not in (created.model_extra or {})
    assert created.field("statusMessage").startswith("queued, position 2")
    assert "rendering" in generating.field("statusMessage")
    last = tasks.seen[-1]
    assert last.field("status") == "completed"
    assert done[0].structured_content == plain.structured_content
    assert text_of(done[0]) == text_of(plain) and done[0].structured_content["request_id"] == job.request_id
    assert fake_fal.count("submit") == 1


async def test_a_task_is_cancelled_at_the_host_and_unknown_tasks_are_not_found(settings: Settings, fake_fal: FakeFal):
    fake_fal.plan = [Phase("IN_QUEUE", None, queue_position=1)]
    tasks = Following()
    async with connect(settings, extensions=[tasks]) as client:
        async with anyio.create_task_group() as tg:
            tg.start_soon(client.call_tool, "generate_text_video", CALL)
            task_id = str((await first_answer(tasks)).field("taskId"))
            updated = await get(client.session, task_id, "tasks/update")  # no input to give: an ack
            await get(client.session, task_id, "tasks/cancel")
            tasks.released.set()
        with pytest.raises(MCPError) as unknown:
            await get(client.session, "no-such-task")
    assert tasks.seen[-1].field("status") == "cancelled"
    assert updated.model_extra == {"resultType": "complete"}  # an empty acknowledgement, as the spec shows it
    assert fake_fal.count("cancel") == 1 and fake_fal.only_job().cancelled
    assert unknown.value.error.code == -32602


async def test_a_call_that_asks_not_to_wait_gets_its_answer_at_once_as_the_job_card_reads_it(
    settings: Settings, fake_fal: FakeFal
):
    """The job card calls with wait_seconds=0 and reads the job from the answer, whether its host speaks tasks."""
    fake_fal.plan = [Phase("IN_QUEUE", None, queue_position=1)]
    tasks = Following()
    async with connect(settings, extensions=[tasks]) as client:
        result = await client.call_tool("generate_text_video", {**CALL, "wait_seconds": 0})
    assert tasks.seen == [] and result.structured_content and result.structured_content["status"] == "queued"


async def test_a_client_that_does_not_declare_tasks_gets_todays_answer_and_no_task(
    settings: Settings, fake_fal: FakeFal
):
    async with connect(settings) as client:
        result = await client.call_tool("generate_text_video", CALL)
        with pytest.raises(MCPError) as refused:
            await get(client.session, "any")
    assert result.structured_content and result.structured_content["status"] == "completed"
    assert refused.value.error.code == -32021


async def test_a_task_outlives_its_server_and_ends_on_the_next_one_with_one_submit(
    settings: Settings, fake_fal: FakeFal
):
    fake_fal.plan = [Phase("IN_QUEUE", None, queue_position=1)]
    tasks = Following()
    async with connect(settings, extensions=[tasks]) as client, anyio.create_task_group() as tg:
        tg.start_soon(client.call_tool, "generate_text_video", CALL)
        task_id = str((await first_answer(tasks)).field("taskId"))
        tg.cancel_scope.cancel()  # the client goes away, and its server stops with the job still queued
    async with connect(settings, extensions=[Following()]) as client:
        working = await get(client.session, task_id)
        fake_fal.advance(fake_fal.only_job().request_id)
        ended = await until(client, task_id, lambda answer: answer.field("status") != "working")
    assert working.field("status") == "working"
    assert ended.field("status") == "completed" and ended.field("result")["structuredContent"]["status"] == "completed"
    assert fake_fal.count("submit") == 1


# -- 2025-11-25: the task param on tools/call, tasks/get, tasks/result, tasks/list, tasks/cancel ------------
# That era's answer to a task-augmented tools/call is not a CallToolResult, which the Python client refuses to
# read, so these speak JSON-RPC over the server's streamable HTTP themselves, as any 2025-11-25 client does.


@asynccontextmanager
async def legacy_session(fake: FakeFal, folder: Path) -> AsyncIterator[LegacySession]:
    process, port = start(fake, folder)
    try:
        assert process.poll() is None, (folder / "stderr.log").read_text()
        async with httpx2.AsyncClient(timeout=60) as http:
            yield LegacySession(http, f"http://127.0.0.1:{port}/mcp")
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.mark.slow  # a server in its own process
async def test_on_2025_11_25_a_task_param_gets_a_task_whose_result_is_the_plain_calls(
    fake_fal: FakeFal, tmp_path: Path
):
    fake_fal.plan = [Phase("IN_QUEUE", None, queue_position=1)]
    async with legacy_session(fake_fal, tmp_path) as rpc:
        hello = await rpc.start()
        listed = {tool["name"]: tool for tool in (await rpc("tools/list"))["result"]["tools"]}
        call = {"name": "generate_text_video", "arguments": CALL, "task": {"ttl": 60_000}}
        created = (await rpc("tools/call", call))["result"]["task"]
        task = {"taskId": created["taskId"]}
        status = (await rpc("tasks/get", task))["result"]
        job = fake_fal.only_job()
        fake_fal.advance(job.request_id)
        result = (await rpc("tasks/result", task))["result"]
        tasks = (await rpc("tasks/list"))["result"]["tasks"]
        plain = (await rpc("tools/call", {"name": "get_job", "arguments": {"request_id": job.request_id}}))["result"]
        unknown = await rpc("tasks/get", {"taskId": "no-such-task"})
    assert hello["capabilities"]["tasks"] == {"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}}
    assert listed["generate_text_video"]["execution"] == {"taskSupport": "optional"}
    assert "execution" not in listed["get_job"]
    assert created["status"] == "working" and created["ttl"] == 86_400_000 and created["pollInterval"] > 0
    assert status["status"] == "working" and status["statusMessage"].startswith("queued")
    assert result["structuredContent"] == plain["structuredContent"]
    assert result["_meta"]["io.modelcontextprotocol/related-task"] == task
    assert [(t["taskId"], t["status"]) for t in tasks] == [(created["taskId"], "completed")]
    assert unknown["error"]["code"] == -32602
    assert fake_fal.count("submit") == 1


@pytest.mark.slow  # a server in its own process
async def test_on_2025_11_25_a_cancelled_task_is_cancelled_when_the_answer_comes(fake_fal: FakeFal, tmp_path: Path):
    fake_fal.plan = [Phase("IN_QUEUE", None, queue_position=1)]
    async with legacy_session(fake_fal, tmp_path) as rpc:
        await rpc.start()
        call = {"name": "generate_text_video", "arguments": CALL, "task": {}}
        task = {"taskId": (await rpc("tools/call", call))["result"]["task"]["taskId"]}
        cancelled = (await rpc("tasks/cancel", task))["result"]
        again = await rpc("tasks/cancel", task)
        arguments = {**CALL, "prompt": "no task asked", "wait_seconds": 0}
        plain = await rpc("tools/call", {"name": "generate_text_video", "arguments": arguments})
    assert cancelled["status"] == "cancelled" and fake_fal.count("cancel") == 1
    assert again["error"]["code"] == -32602  # a task that has ended cannot be cancelled
    assert plain["result"]["structuredContent"]["status"] == "queued"  # no task asked: today's answer


async def test_a_failed_job_is_a_completed_task_carrying_the_tools_error(settings: Settings, fake_fal: FakeFal):
    """On 2026-07-28 `failed` is for a JSON-RPC error; a job that failed is the plain call's error result."""
    fake_fal.outcome = "invalid"
    tasks = Following()
    tasks.released.set()
    async with connect(settings, extensions=[tasks]) as client:
        result = await client.call_tool("generate_text_video", CALL)
    assert tasks.seen[-1].field("status") == "completed"
    assert result.is_error and "Unsupported image format" in text_of(result)


async def test_a_task_past_its_time_to_live_is_removed_and_not_found(settings: Settings, fake_fal: FakeFal):
    fake_fal.plan = [Phase("IN_QUEUE", None, queue_position=1)]
    tasks = Following()
    async with connect(settings, extensions=[tasks]) as client, anyio.create_task_group() as tg:
        tg.start_soon(client.call_tool, "generate_text_video", CALL)
        task_id = str((await first_answer(tasks)).field("taskId"))
        ledger = SqliteLedger(settings.ledger_path)
        job = fake_fal.only_job().request_id
        await ledger.update(job, task_expires_at=time.time() - 1)
        with pytest.raises(MCPError) as expired:
            await get(client.session, task_id)
        forgotten = await ledger.require(job)
        await ledger.close()
        tg.cancel_scope.cancel()
    assert expired.value.error.code == -32602
    assert forgotten.task_id is None and forgotten.status == "queued"  # the task is gone; its job is not


@pytest.mark.slow  # a server in its own process
async def test_on_2025_11_25_a_failed_job_is_a_failed_task_whose_result_is_the_error(fake_fal: FakeFal, tmp_path: Path):
    fake_fal.plan = [Phase("IN_QUEUE", None, queue_position=1)]
    fake_fal.outcome = "invalid"
    async with legacy_session(fake_fal, tmp_path) as rpc:
        await rpc.start()
        call = {"name": "generate_text_video", "arguments": CALL, "task": {}}
        task = {"taskId": (await rpc("tools/call", call))["result"]["task"]["taskId"]}
        fake_fal.advance(fake_fal.only_job().request_id)
        result = (await rpc("tasks/result", task))["result"]
        status = (await rpc("tasks/get", task))["result"]
    assert result["isError"] is True and "Unsupported image format" in result["content"][0]["text"]
    assert status["status"] == "failed"
