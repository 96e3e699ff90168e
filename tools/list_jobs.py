"""list_jobs: the jobs in the ledger, newest first."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from server.catalog import JobStatus
from server.jobs.views import JobList, job_view
from server.money.pricing import dollars
from server.state import app_state
from server.trust.owners import current_person
from tools.define import define


async def list_jobs(
    ctx: Context[Any],
    status: Annotated[JobStatus | None, Field(description="Only jobs in this state; omit for all.")] = None,
    limit: Annotated[int, Field(ge=1, le=200, description="How many jobs at most, newest first.")] = 20,
) -> Annotated[CallToolResult, JobList]:
    """List video jobs from this server's ledger, newest first, with their status, cost and video link.

    Use it to find a job's request_id for get_job or cancel_job, or to see what was spent."""
    records = await app_state(ctx).ledger.recent(limit=limit, status=status, owner=current_person().only)
    views = [job_view(record) for record in records]
    lines = [
        f"{v.request_id}  {v.status:<11} {v.created_at}  {dollars(v.estimated_cost_usd.min, v.estimated_cost_usd.max)}"
        f"  {v.video.url if v.video else v.progress}"
        for v in views
    ]
    text = "\n".join(lines) if lines else "No jobs" + (f" with status {status}." if status else " yet.")
    result = JobList(jobs=views, count=len(views))
    return CallToolResult(
        content=[TextContent(type="text", text=text)], structured_content=result.model_dump(mode="json")
    )


TOOL = define(
    list_jobs,
    title="List video jobs",
    annotations=ToolAnnotations(
        read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
    ),
)
