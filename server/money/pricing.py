"""Cost estimates from the hosts' published token prices.

Every host bills Seedance 2.0 by tokens, width x height x seconds x 24 / 1024, at its own rate per 1000
tokens for each tier, and a lower rate when the request carries reference videos, whose seconds are
billed too. fal: $0.014 standard, $0.0112 fast, x0.6 with reference video. Decimal arithmetic keeps the
published figures exact ($0.3024/s for standard 720p 16:9 on fal, $0.24192/s for fast).
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

FRAMES_PER_SECOND = 24
TOKEN_DIVISOR = 1024
FORMULA = "tokens = width x height x seconds x 24 / 1024"


@dataclass(frozen=True)
class PriceList:
    """One host's USD per 1000 tokens, by tier, without and with reference video in the request."""

    provider: str
    rate: dict[Tier, Decimal]
    rate_with_video: dict[Tier, Decimal]
    basis: str


FAL_STANDARD, FAL_FAST = Decimal("0.014"), Decimal("0.0112")
FAL = PriceList(
    "fal",
    {"standard": FAL_STANDARD, "fast": FAL_FAST},
    {"standard": FAL_STANDARD * Decimal("0.6"), "fast": FAL_FAST * Decimal("0.6")},
    f"fal.ai token pricing: {FORMULA}; $0.014 per 1000 tokens (standard) or $0.0112 (fast); "
    "reference videos add their seconds at 0.6x the rate",
)
RUNFLOW = PriceList(
    "runflow",
    FAL.rate,
    FAL.rate_with_video,
    f"Runflow's per-second prices ($0.3024/s at 720p 16:9 standard, $0.2419/s fast), which are fal's token "
    f"pricing: {FORMULA} at $0.014 or $0.0112 per 1000 tokens",
)
ARK = PriceList(
    "ark",
    {"standard": Decimal("0.0070"), "fast": Decimal("0.0056")},
    {"standard": Decimal("0.0043"), "fast": Decimal("0.0033")},
    f"BytePlus ModelArk list prices: {FORMULA}; $0.0070 per 1000 tokens (standard) or $0.0056 (fast), "
    "$0.0043 or $0.0033 when reference videos are sent, whose seconds are billed too",
)
PRICE_LISTS: dict[str, PriceList] = {"fal": FAL, "runflow": RUNFLOW, "ark": ARK, "local": FAL}  # previews: fal's


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
    prices: PriceList = FAL,
) -> Estimate:
    """Price a generation; `reference_video_seconds` is the (least, most) seconds of reference video, if any."""
    if reference_video_seconds is not None and mode != "reference-to-video":
        raise ValueError("reference videos exist only in reference-to-video mode")
    ratios = FIXED_RATIOS if aspect_ratio == "auto" else (aspect_ratio,)
    areas = [w * h for w, h in (frame_size(resolution, r) for r in ratios)]
    low_area, high_area = Decimal(min(areas)), Decimal(max(areas))
    low_s, high_s = seconds_range(duration)
    rate = prices.rate[tier]
    extra_low = extra_high = Decimal(0)
    if reference_video_seconds is not None:
        rate = prices.rate_with_video[tier]
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
