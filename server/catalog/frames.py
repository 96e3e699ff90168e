"""Frame sizes by resolution and ratio: what pricing multiplies and what previews render.

480p and 720p are the Seedance 2.0 docs' table; 2.5 renders 480p a little smaller (854x480). 1080p is the
size several public tables agree on. 4k is not confirmed: two tables disagree, and each ratio takes the
larger of the two, so that an estimate and a cap never fall short of the bill.
"""

from __future__ import annotations

import math

from server.catalog.enums import FIXED_RATIOS, AspectRatio, Model, Resolution

Sizes = dict[AspectRatio, tuple[int, int]]

FRAME_SIZES: dict[Resolution, Sizes] = {
    "480p": {"21:9": (992, 432), "16:9": (864, 496), "4:3": (752, 560), "1:1": (640, 640), "3:4": (560, 752),
             "9:16": (496, 864)},
    "720p": {"21:9": (1470, 630), "16:9": (1280, 720), "4:3": (1112, 834), "1:1": (960, 960), "3:4": (834, 1112),
             "9:16": (720, 1280)},
    "1080p": {"21:9": (2206, 946), "16:9": (1920, 1080), "4:3": (1664, 1248), "1:1": (1440, 1440),
              "3:4": (1248, 1664), "9:16": (1080, 1920)},
    "4k": {"21:9": (4398, 1886), "16:9": (3840, 2160), "4:3": (3840, 2880), "1:1": (3840, 3840),
           "3:4": (2880, 3840), "9:16": (2160, 3840)},
}  # fmt: skip
SEEDANCE_25_480P: Sizes = {**FRAME_SIZES["480p"], "16:9": (854, 480), "9:16": (480, 854)}
UNCONFIRMED_SIZES: frozenset[Resolution] = frozenset({"4k"})


def frame_size(resolution: Resolution, aspect_ratio: AspectRatio, model: Model = "seedance-2.0") -> tuple[int, int]:
    """Width and height in pixels; `auto` has no single size, so callers must pick a ratio first."""
    if aspect_ratio == "auto":
        raise ValueError("aspect_ratio 'auto' has no fixed frame size")
    if model == "seedance-2.5" and resolution == "480p":
        return SEEDANCE_25_480P[aspect_ratio]
    return FRAME_SIZES[resolution][aspect_ratio]


def ratio_of(width: int, height: int) -> AspectRatio | None:
    """The ratio whose frame is exactly this size, at any resolution, or None."""
    tables = [*FRAME_SIZES.values(), SEEDANCE_25_480P]
    return next((ratio for sizes in tables for ratio, size in sizes.items() if size == (width, height)), None)


def nearest_ratio(width: int, height: int) -> AspectRatio:
    """The ratio closest to this shape: a host's frame may be a few pixels off the table (856x478 for 16:9)."""
    shape = math.log(width / height)
    return min(FIXED_RATIOS, key=lambda r: abs(shape - math.log(FRAME_SIZES["720p"][r][0] / FRAME_SIZES["720p"][r][1])))
