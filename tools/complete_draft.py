"""complete_draft: a seedance-2.5 draft rendered again at 1080p, the take the person chose to keep."""

from __future__ import annotations

import time
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult
from mcp_types import InputRequiredResult
from pydantic import Field

from server.card import card_meta
from server.catalog import DRAFT_COMPLETION, DRAFT_DAYS, FINAL_RESOLUTION
from server.catalog.offers import HOST_NAMES
from server.errors import InvalidArguments
from server.jobs import drafts
from server.jobs.views import JobView, job_result
from server.jobs.waiting import find_job
from server.ledger import JobRecord
from server.state import app_state
from tools.define import define
from tools.errors import tool_errors
from tools.generation import ANNOTATIONS, api_arguments, generate
from tools.params import CodecParam, ConfirmCost, WaitSeconds

DraftRequestId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        description="The request_id of a finished seedance-2.5 job made with draft=true (its result has a draft_id).",
    ),
]
AgainParam = Annotated[
    bool,
    Field(
        description=(
            "A draft is finished once: calling again returns the job that finishes it instead of paying again. "
            "Set true only to pay for another 1080p render, for example after that job failed."
        )
    ),
]
LIVE = ("queued", "in_progress", "completed")  # a completion that is, or will be, the final video
NEW_DRAFT = "make a new draft (the same call with draft=true), then finish that one"


def _refusal(draft: JobRecord, host: str) -> InvalidArguments | None:
    """Why this job cannot be finished now, in a sentence the model can act on; None when it can."""
    rid = draft.request_id
    if draft.draft_of is not None:
        return InvalidArguments(
            "request_id",
            f"job {rid} is already the 1080p finish of the draft {draft.draft_of}",
            "pass the request_id of a seedance-2.5 job made with draft=true; this one is finished",
        )
    if not draft.arguments.get("draft"):
        return InvalidArguments(
            "request_id",
            f"job {rid} is not a draft: it was made without draft=true",
            "pass the request_id of a seedance-2.5 job made with draft=true",
        )
    if not draft.finished:
        return InvalidArguments(
            "request_id",
            f"the draft {rid} is still being made ({draft.status})",
            f'call get_job with request_id="{rid}" until it is completed, then call complete_draft again',
        )
    if draft.status != "completed" or drafts.draft_id(draft) is None:
        why = draft.status if draft.status != "completed" else "completed without a draft id from its host"
        return InvalidArguments("request_id", f"the draft {rid} {why}: there is no take to finish", NEW_DRAFT)
    until = drafts.expires_at(draft)
    if until is not None and until <= time.time():
        return InvalidArguments(
            "request_id",
            f"the draft {rid} expired on {drafts.day_of(until)}: hosts keep a draft {DRAFT_DAYS} days",
            NEW_DRAFT,
        )
    if draft.provider != host:
        made, now = HOST_NAMES.get(draft.provider, draft.provider), HOST_NAMES.get(host, host)
        return InvalidArguments(
            "request_id",
            f"the draft {rid} was made on {made}, and this server now sends jobs to {now}, which cannot finish it",
            f"{NEW_DRAFT}, or ask the operator to send jobs to {made} again",
        )
    return None


async def complete_draft(
    request_id: DraftRequestId,
    ctx: Context[Any],
    codec: CodecParam = None,
    wait_seconds: WaitSeconds = None,
    force_new: AgainParam = False,
    confirm_cost: ConfirmCost = False,
) -> Annotated[CallToolResult, JobView] | InputRequiredResult:
    """Render a seedance-2.5 draft again at 1080p: the same take (prompt, media, length, shape and seed).

    Costs real money: a 1080p render of the draft's length (the draft's result and estimate_cost give the
    price). The draft must be finished, yours, and at most 7 days old. Takes as long as a generation: the
    call streams progress, waits up to `wait_seconds`, then returns the new job's request_id for get_job.
    The new job's result links the MP4 as a resource and names the draft it finishes (draft_of)."""
    state = app_state(ctx)
    with tool_errors():
        draft = await find_job(state.ledger, request_id)
        if (refused := _refusal(draft, state.tracker.provider_for_new_jobs().name)) is not None:
            raise refused
    if not force_new:
        finishing = [j for j in await state.ledger.completions_of(draft.request_id) if j.status in LIVE]
        if finishing:
            return job_result(finishing[0], reused=True)
    return await generate(
        ctx,
        mode=DRAFT_COMPLETION,
        model=draft.model,
        arguments=api_arguments(draft_id=drafts.draft_id(draft), resolution=FINAL_RESOLUTION, codec=codec),
        wait_seconds=wait_seconds,
        force_new=force_new,
        confirm_cost=confirm_cost,
        estimate=drafts.completion_estimate(draft),
        draft_of=draft.request_id,
    )


TOOL = define(complete_draft, title="Finish a Seedance draft at 1080p", annotations=ANNOTATIONS, meta=card_meta())
