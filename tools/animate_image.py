"""animate_image: a video that starts on an image, and optionally ends on another."""

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
    ConfirmCost,
    DurationParam,
    EndUserId,
    ForceNew,
    GenerateAudio,
    Prompt,
    ResolutionParam,
    Seed,
    TierParam,
    WaitSeconds,
    media_url,
)


async def animate_image(
    prompt: Prompt,
    image_url: Annotated[str, media_url("The first frame: a JPEG, PNG or WebP image of at most 30 MB.")],
    ctx: Context[Any],
    end_image_url: Annotated[
        str | None, media_url("Optional last frame; the video moves from image_url to this image.")
    ] = None,
    resolution: ResolutionParam = "720p",
    duration: DurationParam = "auto",
    aspect_ratio: AspectRatioParam = "auto",
    generate_audio: GenerateAudio = True,
    seed: Seed = None,
    end_user_id: EndUserId = None,
    tier: TierParam = "standard",
    wait_seconds: WaitSeconds = None,
    force_new: ForceNew = False,
    confirm_cost: ConfirmCost = False,
) -> Annotated[CallToolResult, JobView] | InputRequiredResult:
    """Animate a still image into a video with ByteDance Seedance 2.0 (image-to-video).

    The image is the first frame; the prompt says what moves and how the camera moves. With
    end_image_url the video arrives on that image. aspect_ratio "auto" follows the image. Costs
    about $0.30 per second at 720p on fal (standard tier); estimate_cost gives the range. Waits up to
    `wait_seconds` with progress, then returns the request_id of a job still running (not an error):
    call get_job to continue. A finished result links the MP4 as a resource."""
    arguments = api_arguments(
        prompt=prompt,
        image_url=image_url,
        end_image_url=end_image_url,
        resolution=resolution,
        duration=duration,
        aspect_ratio=aspect_ratio,
        generate_audio=generate_audio,
        seed=seed,
        end_user_id=end_user_id,
    )
    return await generate(
        ctx,
        mode="image-to-video",
        tier=tier,
        arguments=arguments,
        wait_seconds=wait_seconds,
        force_new=force_new,
        confirm_cost=confirm_cost,
    )


TOOL = define(
    animate_image,
    title="Animate an image into a video (Seedance 2.0)",
    annotations=ANNOTATIONS,
    meta=card_meta(),
)
