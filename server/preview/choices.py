"""What the preview picks when the caller leaves `duration` or `aspect_ratio` on "auto"."""

from __future__ import annotations

from server.catalog import FIXED_RATIOS, FRAME_SIZES, MAX_SECONDS, MIN_SECONDS, AspectRatio

WORDS_PER_EXTRA_SECOND = 8
DEFAULT_RATIO: AspectRatio = "16:9"


def auto_seconds(prompt: str) -> int:
    """4 s, plus 1 s for every 8 words of prompt, at most 15 s: a longer description gets a longer clip."""
    return min(MAX_SECONDS, MIN_SECONDS + len(prompt.split()) // WORDS_PER_EXTRA_SECOND)


def auto_ratio(image_size: tuple[int, int] | None) -> AspectRatio:
    """The table's ratio closest to the start image's shape; 16:9 without a start image."""
    if image_size is None:
        return DEFAULT_RATIO
    shape = image_size[0] / image_size[1]

    def distance(ratio: AspectRatio) -> float:
        width, height = FRAME_SIZES["720p"][ratio]
        return abs(width / height - shape)

    return min(FIXED_RATIOS, key=distance)
