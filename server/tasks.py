"""Long tool calls as MCP tasks (extension `io.modelcontextprotocol/tasks`, protocol 2026-07-28).

A client that declares the extension on a generation call gets a task handle as soon as the job is in the
ledger, instead of waiting; it polls `tasks/get`, whose answer follows the job and, once it ends, carries
the very result the plain call returns. The ledger is the task store: a task is a job with an unguessable
`task_id`, owned, like the job, by whoever started it, and forgotten after its time to live. Any process
that shares the ledger answers for it, after a restart too. A client that does not declare the extension
gets today's answer.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.extension import Extension, MethodBinding
from mcp.server.mcpserver import require_client_extension
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, CallToolRequestParams, CallToolResult
from mcp_types import GetTaskRequestParams, RequestParams
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from server.jobs.ledger import JobRecord
from server.jobs.owners import current_person
from server.jobs.progress import describe
from server.jobs.views import job_result
from server.state import AppState

TASKS = "io.modelcontextprotocol/tasks"
TTL_MS = 24 * 3600 * 1000  # a day to come back for the video; the job itself stays in the ledger after
POLL_MS = 2000
NOT_FOUND = "Failed to retrieve task: Task not found"

# Set while a generation call runs as a task: it returns as soon as its job is recorded, without waiting.
as_task: ContextVar[bool] = ContextVar("seedance_as_task", default=False)


class UpdateTaskParams(RequestParams):
    """`tasks/update`: answers to a task's input requests, which these tasks never make."""

    task_id: str
    input_responses: dict[str, Any] | None = None


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def declares(ctx: ServerRequestContext[Any, Any]) -> bool:
    """Whether this request asked for tasks: on 2026-07-28, in its own capabilities; never on 2025-11-25."""
    if ctx.session.protocol_version not in MODERN_PROTOCOL_VERSIONS:
        return False
    capabilities = ctx.session.client_capabilities
    return bool(capabilities and capabilities.extensions and TASKS in capabilities.extensions)


def task_view(record: JobRecord, now: float | None = None) -> dict[str, Any]:
    """The task as `tasks/get` answers it: working with the job's progress, or ended with the call's result."""
    now = time.time() if now is None else now
    assert record.task_id is not None and record.task_expires_at is not None
    created = record.task_expires_at - TTL_MS / 1000
    view: dict[str, Any] = {
        "taskId": record.task_id,
        "status": "working",
        "createdAt": _iso(created),
        "lastUpdatedAt": _iso(max(record.updated_at, created)),
        "ttlMs": TTL_MS,
        "pollIntervalMs": POLL_MS,
    }
    if not record.finished:
        view["statusMessage"] = describe(record, now)
    elif record.status == "cancelled":
        view["status"] = "cancelled"
    else:  # a failed job is a completed task whose result is the tool's error, as the plain call answers
        view["status"] = "completed"
        view["result"] = job_result(record).model_dump(by_alias=True, mode="json", exclude_none=True)
    return view


class Tasks(Extension):
    identifier = TASKS

    def __init__(self, state: Callable[[], AppState], tools: Sequence[str]) -> None:
        self._state = state
        self._tools = frozenset(tools)

    def methods(self) -> Sequence[MethodBinding]:
        modern = frozenset(MODERN_PROTOCOL_VERSIONS)
        return [
            MethodBinding("tasks/get", GetTaskRequestParams, self._get, protocol_versions=modern),
            MethodBinding("tasks/cancel", GetTaskRequestParams, self._cancel, protocol_versions=modern),
            MethodBinding("tasks/update", UpdateTaskParams, self._update, protocol_versions=modern),
        ]

    async def intercept_tool_call(
        self, params: CallToolRequestParams, ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        if params.name not in self._tools or not declares(ctx):
            return await call_next(ctx)
        running = as_task.set(True)
        try:
            result = await call_next(ctx)
        finally:
            as_task.reset(running)
        job = result.structured_content if isinstance(result, CallToolResult) else None
        if not job or job.get("status") not in ("queued", "in_progress"):
            return result  # refused, a question for the person, or a job already ended: the plain answer
        ledger = self._state().ledger
        expires = time.time() + TTL_MS / 1000
        record = await ledger.open_task(str(job["request_id"]), secrets.token_urlsafe(24), expires)
        return {"resultType": "task", **{k: v for k, v in task_view(record).items() if k != "result"}}

    async def _find(self, ctx: ServerRequestContext[Any, Any], task_id: str) -> JobRecord:
        require_client_extension(ctx, TASKS)
        ledger = self._state().ledger
        record = await ledger.task(task_id)
        now = time.time()
        if record is not None and record.task_expires_at is not None and record.task_expires_at <= now:
            await ledger.forget_tasks(now)
            record = None
        if record is None or not current_person().may_see(record):  # someone else's task is no task
            raise MCPError(code=INVALID_PARAMS, message=NOT_FOUND)
        return record

    async def _get(self, ctx: ServerRequestContext[Any, Any], params: GetTaskRequestParams) -> HandlerResult:
        return task_view(await self._find(ctx, params.task_id))

    async def _cancel(self, ctx: ServerRequestContext[Any, Any], params: GetTaskRequestParams) -> HandlerResult:
        """An ack: the job is cancelled at the host through the same path as cancel_job, and the task ends
        `cancelled`, or `completed` where the host finished it first."""
        record = await self._find(ctx, params.task_id)
        if not record.finished:
            await self._state().tracker.cancel(record.request_id)
        return {}

    async def _update(self, ctx: ServerRequestContext[Any, Any], params: UpdateTaskParams) -> HandlerResult:
        await self._find(ctx, params.task_id)
        return {}
