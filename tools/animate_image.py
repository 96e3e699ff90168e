"""animate_image: a video that starts on an image, and optionally ends on another."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult
from mcp_types import InputRequiredResult

from server.card import card_meta
from server.inputs.formats import ALLOWED_FORMATS
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
    OptionalPrompt,
    ResolutionParam,
    Seed,
    WaitSeconds,
    media_url,
)


async def animate_image(
    image_url: Annotated[str, media_url(f"The first frame: a {ALLOWED_FORMATS['image']} image of at most 30 MB.")],
    ctx: Context[Any],
    prompt: OptionalPrompt = None,
    end_image_url: Annotated[
        str | None, media_url("Optional last frame; the video moves from image_url to this image.")
    ] = None,
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
    """Animate a still image into a video with ByteDance Seedance (image-to-video).

    The image is the first frame; the prompt says what moves and how the camera moves. With
    end_image_url the video arrives on that image. aspect_ratio "auto" follows the image. Costs
    about $0.30 per second at 720p with seedance-2.0 on fal; estimate_cost gives the range. seedance-2.5
    takes only aspect_ratio "auto" here. Waits up to
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
        codec=codec,
        bitrate_mode=bitrate_mode,
        draft=draft or None,
    )
    return await generate(
        ctx,
        mode="image-to-video",
        model=model,
        arguments=arguments,
        wait_seconds=wait_seconds,
        force_new=force_new,
        confirm_cost=confirm_cost,
    )


TOOL = define(
    animate_image,
    title="Animate an image into a video (Seedance)",
    annotations=ANNOTATIONS,
    meta=card_meta(),
)
