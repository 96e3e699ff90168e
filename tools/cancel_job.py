"""cancel_job: stop a job on purpose, whatever its state."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import Field

from server.jobs.views import JobView, job_result
from server.state import app_state
from tools.define import define
from tools.errors import tool_errors


async def cancel_job(
    request_id: Annotated[str, Field(min_length=1, description="The request_id of the job to cancel.")],
    ctx: Context[Any],
) -> Annotated[CallToolResult, JobView]:
    """Cancel a video job. A job still queued is cancelled before it starts and costs nothing; one already
    generating may still finish (and be billed) depending on the provider. The result says which happened.

    Only use it when the user asks to stop a job: a generation call that returned "queued" or
    "in_progress" is not stuck, it is still running (get_job waits for it)."""
    with tool_errors():
        record, outcome = await app_state(ctx).tracker.cancel(request_id)
    return job_result(record, note=outcome)


TOOL = define(
    cancel_job,
    title="Cancel a video job",
    annotations=ToolAnnotations(
        read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=True
    ),
)
