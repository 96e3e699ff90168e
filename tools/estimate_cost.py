"""estimate_cost: what a generation would cost, before paying for it."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

from server.catalog import MIN_SECONDS, MODEL_SPECS, GenerationMode, Model
from server.catalog.checks import endpoint, problems
from server.catalog.offers import HOST_NAMES
from server.errors import InvalidArguments
from server.money import pricing
from server.money.pricing import dollars
from server.state import app_state
from tools.define import define
from tools.errors import tool_errors
from tools.params import AspectRatioParam, DurationParam, ModelParam, ResolutionParam


class CostEstimate(BaseModel):
    min_usd: float = Field(description="Lowest likely cost in USD.")
    max_usd: float = Field(description="Highest likely cost in USD (equal to min_usd when every option is fixed).")
    min_seconds: int
    max_seconds: int
    usd_per_second_min: float
    usd_per_second_max: float
    min_tokens: int
    max_tokens: int
    rate_usd_per_1000_tokens: float = Field(description="After the reference-video rate, when it applies.")
    price_confirmed: bool = Field(
        description="False when the hosts' published figures disagree or are missing: the higher one is used."
    )
    reference_video_seconds: tuple[float, float] | None = None
    endpoint: str
    provider: str = Field(description="Whose prices these are.")
    price_basis: str = Field(description="How that host prices a job, from its published rates.")
    preview: bool = Field(
        default=False,
        description="True when this server has no host key and makes free offline previews: the prices are then fal's.",
    )


PaidProvider = Literal["fal", "fal-us", "runflow", "ark"]


def _check_reference_seconds(seconds: float | None, model: Model) -> None:
    refs = MODEL_SPECS[model].references
    low, high = refs.clip_seconds[0], refs.total_seconds
    if seconds is not None and not low <= seconds <= high:
        raise InvalidArguments(
            "reference_video_seconds",
            f"{seconds:g} s of reference video, but {model} takes {low:g} to {high:g} s in all",
            f"pass a total from {low:g} to {high:g}",
        )


async def estimate_cost(
    mode: Annotated[
        GenerationMode, Field(description="Which tool: generate_text_video, animate_image or reference_video.")
    ],
    ctx: Context[Any],
    model: ModelParam = "seedance-2.0",
    resolution: ResolutionParam = "720p",
    duration: DurationParam = "auto",
    aspect_ratio: AspectRatioParam = "auto",
    reference_video_seconds: Annotated[
        float | None,
        Field(
            ge=min(spec.references.clip_seconds[0] for spec in MODEL_SPECS.values()),
            le=max(spec.references.total_seconds for spec in MODEL_SPECS.values()),
            description=(
                "reference-to-video only: total seconds of the reference videos, which are billed too "
                "(2-15 on the 2.0 models, 1.8-30.2 on seedance-2.5)."
            ),
        ),
    ] = None,
    provider: Annotated[
        PaidProvider | None,
        Field(
            description=(
                "Whose prices to use: fal, fal-us (fal's US endpoints, 1.2x), runflow (the same as fal's) or ark "
                "(BytePlus ModelArk, about half). "
                "Omit for the host this server generates with (fal's prices for offline previews)."
            )
        ),
    ] = None,
) -> Annotated[CallToolResult, CostEstimate]:
    """Estimate the cost in USD of a Seedance generation; free, and nothing is submitted.

    tokens = width x height x seconds x 24 / 1024, at each model's rate per 1000 tokens: on fal $0.014
    for seedance-2.0 ($0.3024 per second at 720p 16:9), $0.0112 fast, $0.007 mini, $0.0214 seedance-2.5.
    "auto" duration or aspect ratio gives a range. In reference-to-video, reference videos add their
    seconds. Other hosts have their own rates (`provider`). price_confirmed is false where the hosts'
    figures disagree; the estimate then takes the higher one."""
    host = provider or app_state(ctx).settings.host
    with tool_errors():
        chosen = {"resolution": resolution, "duration": duration, "aspect_ratio": aspect_ratio}
        refused = problems(host, model, mode, chosen, whole_call=False)
        if refused:
            raise InvalidArguments.of(refused)
        _check_reference_seconds(reference_video_seconds, model)
        if reference_video_seconds is not None and mode != "reference-to-video":
            raise InvalidArguments(
                "reference_video_seconds",
                f"only reference-to-video takes reference videos, but mode is {mode!r}",
                'remove reference_video_seconds, or set mode to "reference-to-video"',
            )
    seconds = None if reference_video_seconds is None else (reference_video_seconds, reference_video_seconds)
    estimate = pricing.estimate(mode, model, resolution, duration, aspect_ratio, seconds, host)
    result = CostEstimate(
        **asdict(estimate),
        endpoint=endpoint(host, model, mode),
        provider="fal" if host == "local" else host,  # an offline preview stands in for fal
        price_basis=pricing.basis(host, model, resolution),
        preview=host == "local",
    )
    most = MODEL_SPECS[model].max_seconds
    length = f"{duration} s" if duration != "auto" else f"{MIN_SECONDS}-{most} s (auto)"
    tokens = (
        f"{result.min_tokens:,}"
        if result.min_tokens == result.max_tokens
        else f"{result.min_tokens:,}-{result.max_tokens:,}"
    )
    text = (
        f"{mode} with {model} on {HOST_NAMES.get(result.provider, result.provider)}, {resolution} {aspect_ratio}, "
        f"{length}: "
        f"{dollars(result.min_usd, result.max_usd)} "
        f"({tokens} tokens at ${result.rate_usd_per_1000_tokens:g} per 1000)."
        + ("" if estimate.price_confirmed else f" The price is {pricing.UNCONFIRMED}.")
    )
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=result.model_dump())


TOOL = define(
    estimate_cost,
    title="Estimate the cost of a video",
    annotations=ToolAnnotations(
        read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
    ),
)
