"""What Seedance 2.0 accepts, as the provider's API reference states it.

Every enum here is copied from the API so that tool schemas mirror it exactly; the pixel table is the
"Supported resolutions" table of the Seedance 2.0 docs and is what both pricing and previews use.
"""

from __future__ import annotations

from typing import Literal, get_args

Resolution = Literal["480p", "720p"]
Duration = Literal["auto", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15"]
AspectRatio = Literal["auto", "21:9", "16:9", "4:3", "1:1", "3:4", "9:16"]
Tier = Literal["standard", "fast"]
Mode = Literal["text-to-video", "image-to-video", "reference-to-video"]
JobStatus = Literal["queued", "in_progress", "completed", "failed", "cancelled"]

RESOLUTIONS: tuple[Resolution, ...] = get_args(Resolution)
DURATIONS: tuple[Duration, ...] = get_args(Duration)
ASPECT_RATIOS: tuple[AspectRatio, ...] = get_args(AspectRatio)
TIERS: tuple[Tier, ...] = get_args(Tier)
MODES: tuple[Mode, ...] = get_args(Mode)
FIXED_RATIOS: tuple[AspectRatio, ...] = tuple(r for r in ASPECT_RATIOS if r != "auto")
TERMINAL_STATUSES: frozenset[JobStatus] = frozenset({"completed", "failed", "cancelled"})

MIN_SECONDS = 4
MAX_SECONDS = 15
MAX_SEED = 2**31 - 1

MAX_IMAGES = 9
MAX_VIDEOS = 3
MAX_AUDIOS = 3
MAX_FILES = 12
MIN_REFERENCE_VIDEO_SECONDS = 2.0
MAX_REFERENCE_VIDEO_SECONDS = 15.0

FRAME_SIZES: dict[Resolution, dict[AspectRatio, tuple[int, int]]] = {
    "480p": {
        "21:9": (992, 432),
        "16:9": (864, 496),
        "4:3": (752, 560),
        "1:1": (640, 640),
        "3:4": (560, 752),
        "9:16": (496, 864),
    },
    "720p": {
        "21:9": (1470, 630),
        "16:9": (1280, 720),
        "4:3": (1112, 834),
        "1:1": (960, 960),
        "3:4": (834, 1112),
        "9:16": (720, 1280),
    },
}

APP_ID = "bytedance/seedance-2.0"


def endpoint_id(mode: Mode, tier: Tier) -> str:
    """The fal endpoint for a mode and tier; the fast tier lives under `/fast/`, not in the app name."""
    return f"{APP_ID}/fast/{mode}" if tier == "fast" else f"{APP_ID}/{mode}"


def frame_size(resolution: Resolution, aspect_ratio: AspectRatio) -> tuple[int, int]:
    """Width and height in pixels; `auto` has no single size, so callers must pick a ratio first."""
    if aspect_ratio == "auto":
        raise ValueError("aspect_ratio 'auto' has no fixed frame size")
    return FRAME_SIZES[resolution][aspect_ratio]


def seconds_range(duration: Duration) -> tuple[int, int]:
    """The shortest and longest clip a duration can give: `auto` lets the model pick 4-15 s."""
    if duration == "auto":
        return MIN_SECONDS, MAX_SECONDS
    return int(duration), int(duration)
