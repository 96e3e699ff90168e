"""get_job: the status or result of a job, waiting for it a while if it is still running."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import Field

from server.card import card_meta
from server.jobs.progress import ProgressReporter
from server.jobs.views import JobView, job_result
from server.state import app_state
from tools.define import define
from tools.errors import tool_errors
from tools.params import WaitSeconds


async def get_job(
    request_id: Annotated[
        str, Field(min_length=1, description="The request_id a generation tool returned (also in seedance://jobs).")
    ],
    ctx: Context[Any],
    wait_seconds: WaitSeconds = None,
) -> Annotated[CallToolResult, JobView]:
    """Get a video job's status or result, waiting up to `wait_seconds` for it to finish.

    Use it after a generation tool returned a job that was still "queued" or "in_progress". It streams
    progress while it waits; if the job is still running when the wait ends, call get_job again. Works
    after a server restart: every job is kept in the ledger. A finished job links its MP4 as a resource."""
    state = app_state(ctx)
    wait = state.settings.wait_seconds if wait_seconds is None else wait_seconds
    with tool_errors():
        reporter = ProgressReporter(ctx.report_progress)
        record = await state.tracker.wait(request_id, wait, reporter, state.settings.heartbeat_seconds)
    return job_result(await state.keeper.poster_here(record))


TOOL = define(
    get_job,
    title="Get a video job's status or result",
    annotations=ToolAnnotations(
        read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True
    ),
    meta=card_meta(),
)
