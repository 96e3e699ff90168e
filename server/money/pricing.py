"""Cost estimates from the hosts' published token prices, as the catalog holds them.

Every host bills Seedance by tokens, width x height x seconds x 24 / 1024, at its own rate per 1000 tokens
for each model and resolution, and at another rate when the request carries reference videos, whose
seconds are billed too. Decimal arithmetic keeps the published figures exact ($0.3024/s for 2.0 at 720p
16:9 on fal, $0.24192/s for fast). A price the sources do not agree on is the higher one, and says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from server.catalog import FIXED_RATIOS, MODEL_SPECS, AspectRatio, Duration, Mode, Model, Resolution, frame_size
from server.catalog import seconds_range as model_seconds
from server.catalog.checks import offer
from server.catalog.offers import HOST_NAMES

FRAMES_PER_SECOND = 24
TOKEN_DIVISOR = 1024
FORMULA = "tokens = width x height x seconds x 24 / 1024"
UNCONFIRMED = (
    "unconfirmed: the hosts' published figures disagree or are missing for this model and resolution, so this "
    "is the higher candidate, and the bill may be lower"
)


@dataclass(frozen=True)
class Estimate:
    """A price range: `auto` duration or aspect ratio, or unknown reference lengths, leave a spread."""

    min_usd: float
    max_usd: float
    min_seconds: int
    max_seconds: int
    min_tokens: int
    max_tokens: int
    usd_per_second_min: float
    usd_per_second_max: float
    rate_usd_per_1000_tokens: float
    reference_video_seconds: tuple[float, float] | None
    price_confirmed: bool = True


def _usd(tokens: Decimal, rate: Decimal) -> Decimal:
    return tokens * rate / 1000


def _tokens(area: Decimal, seconds: Decimal | int) -> Decimal:
    """The hosts' formula: width x height x seconds x 24 / 1024."""
    return area * seconds * FRAMES_PER_SECOND / TOKEN_DIVISOR


BASIS = {
    "fal": "fal.ai token pricing",
    "fal-us": "fal.ai token pricing for its US endpoints",
    "local": "fal.ai token pricing (an offline preview is priced as fal, which it stands in for)",
    "runflow": "Runflow's prices, which are fal's token pricing",
    "ark": "BytePlus ModelArk list prices",
}


def basis(host: str, model: Model, resolution: Resolution) -> str:
    """How `host` prices this model at this resolution, in one sentence."""
    found = offer(host, model)
    if found is None or resolution not in found.prices:
        return f"{HOST_NAMES.get(host, host)} does not sell {model} at {resolution}"
    price = found.prices[resolution]
    with_video = "the same rate" if price.with_video == price.rate else f"${price.with_video} per 1000 tokens"
    text = (
        f"{BASIS.get(host, HOST_NAMES.get(host, host))}: {FORMULA}; {model} at {resolution}: ${price.rate} per "
        f"1000 tokens; reference videos add their seconds, at {with_video}"
    )
    return text if price.confirmed else f"{text}; {UNCONFIRMED}"


def estimate(
    mode: Mode,
    model: Model = "seedance-2.0",
    resolution: Resolution = "720p",
    duration: Duration = "auto",
    aspect_ratio: AspectRatio = "auto",
    reference_video_seconds: tuple[float, float] | None = None,
    host: str = "fal",
) -> Estimate:
    """Price a generation; `reference_video_seconds` is the (least, most) seconds of reference video, if any.

    Raises KeyError for a model or resolution the host does not sell: callers check that first."""
    if reference_video_seconds is not None and mode != "reference-to-video":
        raise ValueError("reference videos exist only in reference-to-video mode")
    found = offer(host, model)
    if found is None:
        raise KeyError(f"{host} does not sell {model}")
    price = found.prices[resolution]
    ratios = FIXED_RATIOS if aspect_ratio == "auto" else (aspect_ratio,)
    areas = [w * h for w, h in (frame_size(resolution, r, model) for r in ratios)]
    low_area, high_area = Decimal(min(areas)), Decimal(max(areas))
    low_s, high_s = model_seconds(duration, model)
    rate = price.rate
    extra_low = extra_high = Decimal(0)
    if reference_video_seconds is not None:
        rate = price.with_video
        extra_low, extra_high = (Decimal(str(s)) for s in reference_video_seconds)
    low_tokens = _tokens(low_area, low_s + extra_low)
    high_tokens = _tokens(high_area, high_s + extra_high)
    return Estimate(
        min_usd=float(round(_usd(low_tokens, rate), 6)),
        max_usd=float(round(_usd(high_tokens, rate), 6)),
        min_seconds=low_s,
        max_seconds=high_s,
        min_tokens=int(low_tokens),
        max_tokens=int(high_tokens),
        usd_per_second_min=float(round(_usd(_tokens(low_area, 1), rate), 6)),
        usd_per_second_max=float(round(_usd(_tokens(high_area, 1), rate), 6)),
        rate_usd_per_1000_tokens=float(rate),
        reference_video_seconds=reference_video_seconds,
        price_confirmed=price.confirmed and (reference_video_seconds is None or price.video_confirmed),
    )


def billed(host: str, model: Model, resolution: Resolution, made: Mapping[str, Any]) -> float | None:
    """What a finished video costs at its host's rate, by the frame and the whole seconds it really has (read
    from the file); None where either is unknown or the host does not sell the model at that resolution."""
    found = offer(host, model)
    size = [made.get(name) for name in ("width", "height", "duration")]
    if found is None or resolution not in found.prices or not all(isinstance(v, int | float) and v > 0 for v in size):
        return None
    width, height, seconds = (Decimal(str(v)) for v in size)
    return float(round(_usd(_tokens(width * height, round(seconds)), found.prices[resolution].rate), 6))


def unknown_reference_seconds(video_count: int, model: Model = "seedance-2.0") -> tuple[float, float] | None:
    """Reference clips are billed by their length, which a URL does not tell: assume the model's allowed range."""
    if video_count == 0:
        return None
    refs = MODEL_SPECS[model].references
    return refs.clip_seconds[0], refs.total_seconds


def dollars(low: float, high: float) -> str:
    return f"${low:.2f}" if round(low, 2) == round(high, 2) else f"${low:.2f}-${high:.2f}"
