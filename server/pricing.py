"""Cost estimates from fal's published token formula.

fal bills Seedance 2.0 by tokens: width x height x seconds x 24 / 1024, at $0.014 per 1000 tokens on the
standard tier and $0.0112 on the fast tier. Reference-to-video also bills the seconds of its reference
videos, and any reference video multiplies the rate by 0.6. Decimal arithmetic keeps the published
figures exact ($0.3024/s for standard 720p 16:9, $0.24192/s for fast).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from server.catalog import (
    FIXED_RATIOS,
    MAX_REFERENCE_VIDEO_SECONDS,
    MIN_REFERENCE_VIDEO_SECONDS,
    AspectRatio,
    Duration,
    Mode,
    Resolution,
    Tier,
    frame_size,
    seconds_range,
)

USD_PER_1000_TOKENS: dict[Tier, Decimal] = {"standard": Decimal("0.014"), "fast": Decimal("0.0112")}
REFERENCE_VIDEO_DISCOUNT = Decimal("0.6")
FRAMES_PER_SECOND = 24
TOKEN_DIVISOR = 1024
PRICE_BASIS = (
    "fal.ai token pricing: tokens = width x height x seconds x 24 / 1024; "
    "$0.014 per 1000 tokens (standard) or $0.0112 (fast); reference videos add their seconds at 0.6x the rate"
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


def _usd(tokens: Decimal, rate: Decimal) -> Decimal:
    return tokens * rate / 1000


def estimate(
    mode: Mode,
    tier: Tier = "standard",
    resolution: Resolution = "720p",
    duration: Duration = "auto",
    aspect_ratio: AspectRatio = "auto",
    reference_video_seconds: tuple[float, float] | None = None,
) -> Estimate:
    """Price a generation; `reference_video_seconds` is the (least, most) seconds of reference video, if any."""
    if reference_video_seconds is not None and mode != "reference-to-video":
        raise ValueError("reference videos exist only in reference-to-video mode")
    ratios = FIXED_RATIOS if aspect_ratio == "auto" else (aspect_ratio,)
    areas = [w * h for w, h in (frame_size(resolution, r) for r in ratios)]
    low_area, high_area = Decimal(min(areas)), Decimal(max(areas))
    low_s, high_s = seconds_range(duration)
    rate = USD_PER_1000_TOKENS[tier]
    extra_low = extra_high = Decimal(0)
    if reference_video_seconds is not None:
        rate *= REFERENCE_VIDEO_DISCOUNT
        extra_low, extra_high = (Decimal(str(s)) for s in reference_video_seconds)
    per_second = Decimal(FRAMES_PER_SECOND) / TOKEN_DIVISOR
    low_tokens = low_area * (low_s + extra_low) * per_second
    high_tokens = high_area * (high_s + extra_high) * per_second
    return Estimate(
        min_usd=float(round(_usd(low_tokens, rate), 6)),
        max_usd=float(round(_usd(high_tokens, rate), 6)),
        min_seconds=low_s,
        max_seconds=high_s,
        min_tokens=int(low_tokens),
        max_tokens=int(high_tokens),
        usd_per_second_min=float(round(_usd(low_area * per_second, rate), 6)),
        usd_per_second_max=float(round(_usd(high_area * per_second, rate), 6)),
        rate_usd_per_1000_tokens=float(rate),
        reference_video_seconds=reference_video_seconds,
    )


def unknown_reference_seconds(video_count: int) -> tuple[float, float] | None:
    """Reference clips are billed by their length, which a URL does not tell: assume the allowed 2-15 s."""
    if video_count == 0:
        return None
    return MIN_REFERENCE_VIDEO_SECONDS, MAX_REFERENCE_VIDEO_SECONDS
