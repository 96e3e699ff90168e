"""watch_job: the card's long poll, answered when the job changes in the ledger, or after a bounded wait."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult
from pydantic import Field

from server.card import app_only_meta
from server.jobs.views import CardJob, card_view, job_result
from server.state import app_state
from tools.card import READS
from tools.define import define
from tools.errors import tool_errors

MAX_POLL_SECONDS = 50.0  # below the 60 s many clients allow a tool call


async def watch_job(
    request_id: Annotated[str, Field(min_length=1, description="The job the card shows.")],
    ctx: Context[Any],
    seen: Annotated[
        float, Field(ge=0, description="The `version` of the job the card already shows; 0 for an answer at once.")
    ] = 0,
    wait_seconds: Annotated[float, Field(ge=0, le=MAX_POLL_SECONDS, description="The longest wait for a change.")] = 25,
) -> Annotated[CallToolResult, CardJob]:
    """The job as soon as it differs from the version the card shows, or as it is after `wait_seconds`."""
    state = app_state(ctx)
    with tool_errors():
        record = await state.tracker.next_change(request_id, seen, wait_seconds)
    # Its content, for the poster; the card reads the status, so never an error.
    plain = job_result(await state.keeper.poster_here(record))
    return CallToolResult(content=plain.content, structured_content=card_view(record).model_dump(mode="json"))


TOOL = define(
    watch_job,
    title="Follow a job for its card",
    annotations=READS,
    meta=app_only_meta(),
)
