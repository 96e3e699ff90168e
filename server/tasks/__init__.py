"""Long tool calls as MCP tasks, in both protocol eras, with the ledger as the task store.

A client that asks for tasks gets a handle as soon as the job is in the ledger instead of a wait, and
follows it with protocol methods; any process that shares the ledger answers for it, after a restart too.
- 2026-07-28: the extension `io.modelcontextprotocol/tasks`, declared by the request itself; `tasks/get`
  inlines the result, `tasks/update` acknowledges.
- 2025-11-25: `capabilities.tasks` in `initialize`, `execution.taskSupport` on the long tools, the `task`
  param on `tools/call`, `tasks/result` (with the related-task `_meta`) and `tasks/list`. Its `tools/call`
  answer is not a `CallToolResult`, so it is made in a server middleware (`legacy_tasks`).
A client that asks for neither gets today's answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.extension import Extension, MethodBinding
from mcp.server.mcpserver import require_client_extension
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, CallToolRequestParams
from mcp_types import GetTaskRequestParams, RequestParams
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import BaseModel

from server.jobs.waiting import ignore
from server.ledger import JobRecord
from server.state import AppState
from server.tasks import views
from server.tasks.store import as_task, find_task, open_task
from server.trust.owners import current_person

TASKS = "io.modelcontextprotocol/tasks"
LEGACY = frozenset({"2025-11-25"})
MODERN = frozenset(MODERN_PROTOCOL_VERSIONS)
PAGE = 50  # tasks/list

__all__ = ["TASKS", "Tasks", "as_task", "legacy_tasks"]


class UpdateTaskParams(RequestParams):
    """`tasks/update`: answers to a task's input requests, which these tasks never make."""

    task_id: str
    input_responses: dict[str, Any] | None = None


class ListTasksParams(RequestParams):
    cursor: str | None = None


def modern(ctx: ServerRequestContext[Any, Any]) -> bool:
    return ctx.session.protocol_version in MODERN


def declares(ctx: ServerRequestContext[Any, Any]) -> bool:
    """Whether this 2026-07-28 request asked for tasks, in its own capabilities."""
    capabilities = ctx.session.client_capabilities
    return modern(ctx) and bool(capabilities and capabilities.extensions and TASKS in capabilities.extensions)


async def _run_as_task(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> tuple[HandlerResult, str | None]:
    """The call, returning as soon as its job is recorded, and that job's request id while it runs (None for
    a refusal, a question for the person, or an identical earlier job that has ended: answered as it is)."""
    running = as_task.set(True)
    try:
        result = await call_next(ctx)
    finally:
        as_task.reset(running)
    answer = _dict(result) or {}
    job = answer.get("structuredContent") or {}
    return result, str(job["request_id"]) if job.get("status") in ("queued", "in_progress") else None


class Tasks(Extension):
    identifier = TASKS

    def __init__(self, state: Callable[[], AppState], tools: Sequence[str]) -> None:
        self._state = state
        self._tools = frozenset(tools)

    def methods(self) -> Sequence[MethodBinding]:
        return [
            MethodBinding("tasks/get", GetTaskRequestParams, self._get),
            MethodBinding("tasks/cancel", GetTaskRequestParams, self._cancel),
            MethodBinding("tasks/update", UpdateTaskParams, self._update, protocol_versions=MODERN),
            MethodBinding("tasks/result", GetTaskRequestParams, self._result, protocol_versions=LEGACY),
            MethodBinding("tasks/list", ListTasksParams, self._list, protocol_versions=LEGACY),
        ]

    async def intercept_tool_call(
        self, params: CallToolRequestParams, ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        if params.name not in self._tools or not declares(ctx) or (params.arguments or {}).get("wait_seconds") == 0:
            return await call_next(ctx)  # wait_seconds=0 already answers at once, in the shape the job card reads
        result, job = await _run_as_task(ctx, call_next)
        if job is None:
            return result
        record = await open_task(self._state().ledger, job)
        return {"resultType": "task", **views.modern(record, with_result=False)}

    async def _find(self, ctx: ServerRequestContext[Any, Any], task_id: str) -> JobRecord:
        if modern(ctx):
            require_client_extension(ctx, TASKS)
        return await find_task(self._state().ledger, task_id)

    async def _get(self, ctx: ServerRequestContext[Any, Any], params: GetTaskRequestParams) -> HandlerResult:
        record = await self._find(ctx, params.task_id)
        return views.modern(record) if modern(ctx) else views.legacy(record)

    async def _cancel(self, ctx: ServerRequestContext[Any, Any], params: GetTaskRequestParams) -> HandlerResult:
        """Cancels the job at its host through cancel_job's path. 2026-07-28 acknowledges (the task ends
        `cancelled`, or `completed` where the host finished first); 2025-11-25 answers the task, which must
        be cancelled by then, so a job that has ended or that its host will not stop is an error."""
        record = await self._find(ctx, params.task_id)
        if modern(ctx):
            if not record.finished:
                await self._state().tracker.cancel(record.request_id)
            return {}
        if record.finished:
            raise MCPError(code=INVALID_PARAMS, message=f"Cannot cancel task: it is already {record.status}")
        record, outcome = await self._state().tracker.cancel(record.request_id)
        if record.status != "cancelled":
            raise MCPError(code=INVALID_PARAMS, message=f"Cannot cancel task: {outcome}")
        return views.legacy(record)

    async def _update(self, ctx: ServerRequestContext[Any, Any], params: UpdateTaskParams) -> HandlerResult:
        await self._find(ctx, params.task_id)
        return {}

    async def _result(self, ctx: ServerRequestContext[Any, Any], params: GetTaskRequestParams) -> HandlerResult:
        """Waits for the job to end, then answers what the call would have, naming its task."""
        record = await self._find(ctx, params.task_id)
        tracker, settings = self._state().tracker, self._state().settings
        while not record.finished:
            record = await tracker.wait(record.request_id, settings.wait_seconds or 1.0, ignore, 60.0)
        result = views.result_of(record)
        result["_meta"] = {**result.get("_meta", {}), views.RELATED_TASK: {"taskId": params.task_id}}
        return result

    async def _list(self, ctx: ServerRequestContext[Any, Any], params: ListTasksParams) -> HandlerResult:
        """The caller's tasks, newest first, a page at a time (the cursor is where the next page starts)."""
        start = int(params.cursor) if params.cursor and params.cursor.isdigit() else 0
        if params.cursor and not params.cursor.isdigit():
            raise MCPError(code=INVALID_PARAMS, message="Invalid cursor")
        records = await self._state().ledger.tasks(current_person().only, PAGE + 1, start)
        page = {"tasks": [views.legacy(record) for record in records[:PAGE]]}
        return {**page, "nextCursor": str(start + PAGE)} if len(records) > PAGE else page


def legacy_tasks(tools: Sequence[str], state: Callable[[], AppState]) -> Any:
    """Server middleware for 2025-11-25: the capability, the tools' `execution`, and task-augmented calls."""
    long = frozenset(tools)

    async def middleware(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if modern(ctx):
            return await call_next(ctx)
        params = ctx.params if isinstance(ctx.params, dict) else {}
        if ctx.method == "tools/call" and params.get("name") in long and params.get("task") is not None:
            answer, job = await _run_as_task(ctx, call_next)
            if job is None:
                return answer
            return {"task": views.legacy(await open_task(state().ledger, job))}
        result = _dict(await call_next(ctx))
        if ctx.method == "initialize" and result is not None:
            capabilities = result.setdefault("capabilities", {})
            capabilities["tasks"] = {"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}}
        if ctx.method == "tools/list" and result is not None:
            result["tools"] = [
                {**tool, "execution": {"taskSupport": "optional"}} if tool.get("name") in long else tool
                for tool in result.get("tools", [])
            ]
        return result

    return middleware


def _dict(result: HandlerResult) -> dict[str, Any] | None:
    if isinstance(result, BaseModel):
        return result.model_dump(by_alias=True, mode="json", exclude_none=True)
    return result
