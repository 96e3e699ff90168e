"""Generation calls as MCP tasks on 2026-07-28 (`io.modelcontextprotocol/tasks`), through a real MCP client.

The client here declares the extension and claims the `"task"` result shape with the SDK's own
`ClientExtension`: it keeps every answer it reads, then polls `tasks/get` (at the task's poll interval)
until the task ends. Every wait is for a state of the job at the fake, never for a stretch of time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import anyio
import pytest
from mcp.client.extension import ClaimContext, ClientExtension, ResultClaim
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, GetTaskRequestParams, Request, Result
from pydantic import ConfigDict, Field

from server.settings import Settings
from server.tasks import TASKS
from tests.conftest import connect, text_of
from tests.fake_fal import FakeFal, Phase

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
            await get(client.session, task_id, "tasks/cancel")
            tasks.released.set()
        with pytest.raises(MCPError) as unknown:
            await get(client.session, "no-such-task")
    assert tasks.seen[-1].field("status") == "cancelled"
    assert fake_fal.count("cancel") == 1 and fake_fal.only_job().cancelled
    assert unknown.value.error.code == -32602


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
