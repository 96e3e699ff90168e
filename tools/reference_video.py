"""reference_video: a video guided by reference images, videos and audio clips."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult
from mcp_types import InputRequiredResult
from pydantic import Field

from server.card import card_meta
from server.catalog import MAX_AUDIOS, MAX_IMAGES, MAX_VIDEOS
from server.inputs.formats import ALLOWED_FORMATS
from server.inputs.limits import EACH_MODEL
from server.jobs.views import JobView
from server.prompts import reference_names
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
    TaskParam,
    WaitSeconds,
    media_url,
)

ImageUrl = Annotated[str, media_url(f"A reference image: {ALLOWED_FORMATS['image']}, at most 30 MB.")]
CLIPS = f"each clip and all of a kind together within the model's bounds ({EACH_MODEL})"
VideoUrl = Annotated[
    str, media_url(f"A reference clip: {ALLOWED_FORMATS['video']}, under 50 MB in all; {CLIPS}.", "video")
]
AudioUrl = Annotated[str, media_url(f"A reference sound: {ALLOWED_FORMATS['audio']}, at most 15 MB; {CLIPS}.", "audio")]


def unnamed_references(prompt: str | None, images: int, videos: int, audios: int) -> str | None:
    """A warning for references the prompt never names: the model may ignore them."""
    if prompt is None:
        return None  # seedance-2.5 without a prompt follows its references as given
    missing = [name for name in reference_names(images, videos, audios) if name.lower() not in prompt.lower()]
    if not missing:
        return None
    return (
        f"Warning: {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} never named in the prompt, so the "
        "model may ignore it. Name each reference as @Image1, @Video1, @Audio1... to say what it is for."
    )


async def reference_video(
    ctx: Context[Any],
    prompt: OptionalPrompt = None,
    image_urls: Annotated[
        tuple[ImageUrl, ...],
        Field(max_length=MAX_IMAGES, description="Up to 9 images (30 on seedance-2.5): @Image1 is the first."),
    ] = (),
    video_urls: Annotated[
        tuple[VideoUrl, ...],
        Field(max_length=MAX_VIDEOS, description="Up to 3 videos (10 on seedance-2.5): @Video1 is the first."),
    ] = (),
    audio_urls: Annotated[
        tuple[AudioUrl, ...],
        Field(max_length=MAX_AUDIOS, description="Up to 3 audio clips (10 on seedance-2.5): @Audio1 is the first."),
    ] = (),
    model: ModelParam = "seedance-2.0",
    task: TaskParam = None,
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
    """Generate a video guided by reference media with ByteDance Seedance (reference-to-video).

    Name each reference in the prompt by its kind and its position in its list, counting from 1:
    @Image1 is image_urls[0], @Video2 is video_urls[1], @Audio1 is audio_urls[0]. For example:
    "The woman from @Image1 dances the moves of @Video1 to the beat of @Audio1." Reference videos
    carry motion and camera work, images carry characters, products and style, audio carries rhythm
    and voice. The 2.0 models take up to 9 images, 3 videos and 3 audios, 12 files in all, and audio needs
    an image or video; seedance-2.5 takes 30, 10 and 10, 50 in all. Reference videos are billed too (their
    seconds are added), at 0.6x the rate on the 2.0 models. Waits up to
    `wait_seconds` with progress, then returns a running job's request_id (not an error): call get_job."""
    arguments = api_arguments(
        prompt=prompt,
        image_urls=list(image_urls) or None,
        video_urls=list(video_urls) or None,
        audio_urls=list(audio_urls) or None,
        task=task,
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
        note=unnamed_references(prompt, len(image_urls), len(video_urls), len(audio_urls)),
        mode="reference-to-video",
        model=model,
        arguments=arguments,
        wait_seconds=wait_seconds,
        force_new=force_new,
        confirm_cost=confirm_cost,
        reference_videos=len(video_urls),
    )


TOOL = define(
    reference_video,
    title="Generate a video from reference images, videos and audio (Seedance)",
    annotations=ANNOTATIONS,
    meta=card_meta(),
)
