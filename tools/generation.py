"""What the three generation tools share: price, submit, wait with progress, answer.

A cancelled tool call is not always a cancelled job: clients send the same cancel when a person presses
stop and when their own timeout fires. A job still queued is cancelled at the provider (nothing is
billed yet); one already generating keeps running and stays in the ledger for get_job.
"""

from __future__ import annotations

from typing import Any

import anyio
from mcp.server.mcpserver import Context
from mcp.types import CallToolResult, ToolAnnotations
from mcp_types import InputRequiredResult

from server.catalog import DRAFT_RESOLUTION, AspectRatio, Duration, Mode, Model, Resolution
from server.catalog.checks import problems
from server.errors import InvalidArguments
from server.inputs import check_media, jobs_named
from server.jobs.limits import check_in_flight, in_flight_cap
from server.jobs.progress import ProgressReporter
from server.jobs.views import job_result
from server.media.earlier_jobs import resolve
from server.media.uploads import stage
from server.money import pricing
from server.money.budget import check_limits, daily_budget
from server.state import app_state
from server.tasks.store import as_task
from server.trust.owners import current_person
from tools.cost_approval import AnswerNeeded, ApprovedBy, approve, question
from tools.errors import tool_errors

# Each call starts a new paid job at an outside service; it changes nothing it could overwrite.
ANNOTATIONS = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True)


APPROVALS: dict[ApprovedBy, str] = {
    "user": "the user accepted the price in the client",
    "confirm_cost": "the model passed confirm_cost=true (the client cannot ask the user)",
}


def api_arguments(**values: Any) -> dict[str, Any]:
    """The request body: every given option, none of the unset ones."""
    return {name: value for name, value in values.items() if value is not None}


async def generate(
    ctx: Context[Any],
    *,
    mode: Mode,
    model: Model,
    arguments: dict[str, Any],
    wait_seconds: float | None,
    force_new: bool,
    confirm_cost: bool,
    reference_videos: int = 0,
    note: str | None = None,
    estimate: pricing.Estimate | None = None,
    draft_of: str | None = None,
) -> CallToolResult | InputRequiredResult:
    """`estimate` prices a job whose length and shape come from elsewhere (a draft's); `draft_of` links it back."""
    state = app_state(ctx)
    settings = state.settings
    if arguments.get("draft"):
        arguments = {**arguments, "resolution": DRAFT_RESOLUTION}  # what a draft renders, and is priced as
    resolution: Resolution = arguments["resolution"]
    tracker = state.tracker
    with tool_errors():
        provider = tracker.provider_for_new_jobs()
        provider.check(mode, model, arguments)
        if refused := problems(provider.name, model, mode, {"model": model, **arguments}):
            raise InvalidArguments.of(refused)
    if estimate is None:
        reference_seconds = pricing.unknown_reference_seconds(reference_videos, model)
        duration: Duration = arguments["duration"]
        aspect_ratio: AspectRatio = arguments["aspect_ratio"]
        estimate = pricing.estimate(mode, model, resolution, duration, aspect_ratio, reference_seconds, provider.name)
    approved: list[ApprovedBy] = []

    person = current_person()

    async def before_paying() -> None:
        await check_limits(estimate, settings, state.ledger, person.name)
        await check_in_flight(settings, state.ledger, person.name)
        if estimate.max_usd > settings.confirm_above_usd:
            asked = question(estimate, mode, resolution, model)
            approved.append(
                await approve(
                    ctx, estimate, asked, threshold=settings.confirm_above_usd, confirm_cost=confirm_cost, mode=mode
                )
            )

    try:
        with tool_errors():
            find = await jobs_named(state.ledger, arguments)
            files = await check_media({**arguments, "model": model}, state.trust, find, state.callers_http)
            files += await resolve(
                arguments, find, state.local_copy, settings.frames_dir, state.keeper.host_last_frame, state.keeper.shelf
            )
            if files:
                arguments = await stage(arguments, files, provider, state.ledger, person.name)
            submitted = await tracker.submit(
                mode,
                model,
                arguments,
                (estimate.min_usd, estimate.max_usd),
                force_new=force_new,
                before_paying=before_paying,
                budget=daily_budget(estimate, settings, person.name),
                in_flight_cap=in_flight_cap(settings),
                owner=person.name,
                draft_of=draft_of,
            )
    except AnswerNeeded as needed:
        return needed.result  # the client asks the user and calls again with the answer
    record = submitted.record
    for by in approved:
        await state.ledger.record_event(record.request_id, "cost_approved", APPROVALS[by])
    wait = 0 if as_task.get() else settings.wait_seconds if wait_seconds is None else wait_seconds
    try:
        record = await tracker.wait(
            record.request_id, wait, ProgressReporter(ctx.report_progress), settings.heartbeat_seconds
        )
    except anyio.get_cancelled_exc_class():
        with anyio.CancelScope(shield=True):
            await tracker.caller_cancelled(record.request_id)
        raise
    return job_result(await state.keeper.poster_here(record), reused=submitted.reused, note=note)
