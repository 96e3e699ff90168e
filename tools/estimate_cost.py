"""estimate_cost: what a generation would cost, before paying for it."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

from server.catalog import MAX_REFERENCE_VIDEO_SECONDS, MIN_REFERENCE_VIDEO_SECONDS, Mode, endpoint_id
from server.errors import InvalidArguments
from server.jobs.views import dollars
from server.money import pricing
from server.state import app_state
from tools.define import define
from tools.errors import tool_errors
from tools.params import AspectRatioParam, DurationParam, ResolutionParam, TierParam


class CostEstimate(BaseModel):
    min_usd: float = Field(description="Lowest likely cost in USD.")
    max_usd: float = Field(description="Highest likely cost in USD (equal to min_usd when every option is fixed).")
    min_seconds: int
    max_seconds: int
    usd_per_second_min: float
    usd_per_second_max: float
    min_tokens: int
    max_tokens: int
    rate_usd_per_1000_tokens: float = Field(description="After the 0.6x reference-video factor, when it applies.")
    reference_video_seconds: tuple[float, float] | None = None
    endpoint: str
    provider: str = Field(description="Whose prices these are.")
    price_basis: str = Field(description="How that host prices a job, from its published rates.")
    preview: bool = Field(
        default=False,
        description="True when this server has no host key and makes free offline previews: the prices are then fal's.",
    )


PaidProvider = Literal["fal", "runflow", "ark"]


async def estimate_cost(
    mode: Annotated[Mode, Field(description="Which tool: generate_text_video, animate_image or reference_video.")],
    ctx: Context[Any],
    tier: TierParam = "standard",
    resolution: ResolutionParam = "720p",
    duration: DurationParam = "auto",
    aspect_ratio: AspectRatioParam = "auto",
    reference_video_seconds: Annotated[
        float | None,
        Field(
            ge=MIN_REFERENCE_VIDEO_SECONDS,
            le=MAX_REFERENCE_VIDEO_SECONDS,
            description="reference-to-video only: total seconds of the reference videos (2-15), which are billed too.",
        ),
    ] = None,
    provider: Annotated[
        PaidProvider | None,
        Field(
            description=(
                "Whose prices to use: fal, runflow (the same as fal's) or ark (BytePlus ModelArk, about half). "
                "Omit for the host this server generates with (fal's prices for offline previews)."
            )
        ),
    ] = None,
) -> Annotated[CallToolResult, CostEstimate]:
    """Estimate the cost in USD of a Seedance 2.0 generation; free, and nothing is submitted.

    tokens = width x height x seconds x 24 / 1024, at $0.014 per 1000 tokens (standard) or $0.0112
    (fast) on fal: $0.3024 per second at 720p 16:9 on standard. "auto" duration (4-15 s) or aspect ratio
    gives a range. In reference-to-video, reference videos add their seconds, at a lower rate. Other hosts
    have their own rates (`provider`)."""
    with tool_errors():
        if reference_video_seconds is not None and mode != "reference-to-video":
            raise InvalidArguments(
                "reference_video_seconds",
                f"only reference-to-video takes reference videos, but mode is {mode!r}",
                'remove reference_video_seconds, or set mode to "reference-to-video"',
            )
    seconds = None if reference_video_seconds is None else (reference_video_seconds, reference_video_seconds)
    host = provider or app_state(ctx).settings.provider
    prices = pricing.PRICE_LISTS[host]
    estimate = pricing.estimate(mode, tier, resolution, duration, aspect_ratio, seconds, prices)
    result = CostEstimate(
        **asdict(estimate),
        endpoint=endpoint_id(mode, tier),
        provider=prices.provider,
        price_basis=prices.basis,
        preview=host == "local",
    )
    length = f"{duration} s" if duration != "auto" else "4-15 s (auto)"
    tokens = (
        f"{result.min_tokens:,}"
        if result.min_tokens == result.max_tokens
        else f"{result.min_tokens:,}-{result.max_tokens:,}"
    )
    text = (
        f"{mode} on {prices.provider} {tier}, {resolution} {aspect_ratio}, {length}: "
        f"{dollars(result.min_usd, result.max_usd)} "
        f"({tokens} tokens at ${result.rate_usd_per_1000_tokens:g} per 1000)."
    )
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=result.model_dump())


TOOL = define(
    estimate_cost,
    title="Estimate the cost of a video",
    annotations=ToolAnnotations(
        read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
    ),
)
