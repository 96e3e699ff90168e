"""generate_text_video: a video from a prompt alone."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult
from mcp_types import InputRequiredResult

from server.card import card_meta
from server.jobs.views import JobView
from tools.define import define
from tools.generation import ANNOTATIONS, api_arguments, generate
from tools.params import (
    AspectRatioParam,
    BitrateModeParam,
    CodecParam,
    ConfirmCost,
    DraftParam,
    DurationParam,
    EndUserId,
    ForceNew,
    GenerateAudio,
    ModelParam,
    Prompt,
    ResolutionParam,
    Seed,
    WaitSeconds,
)


async def generate_text_video(
    prompt: Prompt,
    ctx: Context[Any],
    model: ModelParam = "seedance-2.0",
    resolution: ResolutionParam = "720p",
    duration: DurationParam = "auto",
    aspect_ratio: AspectRatioParam = "auto",
    generate_audio: GenerateAudio = True,
    seed: Seed = None,
    end_user_id: EndUserId = None,
    codec: CodecParam = None,
    bitrate_mode: BitrateModeParam = None,
    draft: DraftParam = False,
    wait_seconds: WaitSeconds = None,
    force_new: ForceNew = False,
    confirm_cost: ConfirmCost = False,
) -> Annotated[CallToolResult, JobView] | InputRequiredResult:
    """Generate a video (with synchronized audio) from a text prompt with ByteDance Seedance.

    Costs real money: about $0.30 per second at 720p with seedance-2.0 on fal (call estimate_cost
    first for the exact range). Takes 30 s to several minutes. The call streams progress and waits up to
    `wait_seconds`; if the video is not ready by then it returns the job's request_id with status
    "queued" or "in_progress" - not an error - and get_job continues the wait. A finished result links
    the MP4 as a resource."""
    arguments = api_arguments(
        prompt=prompt,
        resolution=resolution,
        duration=duration,
        aspect_ratio=aspect_ratio,
        generate_audio=generate_audio,
        seed=seed,
        end_user_id=end_user_id,
        codec=codec,
        bitrate_mode=bitrate_mode,
        draft=draft or None,
    )
    return await generate(
        ctx,
        mode="text-to-video",
        model=model,
        arguments=arguments,
        wait_seconds=wait_seconds,
        force_new=force_new,
        confirm_cost=confirm_cost,
    )


TOOL = define(
    generate_text_video,
    title="Generate a video from text (Seedance)",
    annotations=ANNOTATIONS,
    meta=card_meta(),
)
