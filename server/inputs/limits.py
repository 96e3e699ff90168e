"""The media bounds the hosts document, in one table, so that a call they would refuse costs nothing.

Sources: ModelArk's media limits for Seedance 2.0 (the strictest host that documents them; fal documents
only formats and sizes, and serves the same model). Where hosts differ, the looser documented figure is
used, so that nothing a host takes is refused here.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.catalog import MAX_REFERENCE_VIDEO_SECONDS, MIN_REFERENCE_VIDEO_SECONDS

# Images: 300-6000 px a side, width/height 0.4-2.5. Pixels follow from the sides: no host documents a
# pixel limit of its own, and 6000 x 6000 surely holds, since no side may be longer.
IMAGE_SIDES = (300, 6000)
ASPECT = (0.4, 2.5)
MAX_PIXELS = IMAGE_SIDES[1] * IMAGE_SIDES[1]


@dataclass(frozen=True)
class ClipBounds:
    """What one reference clip of a kind may be, and what all of them together may add up to."""

    seconds: tuple[float, float]
    total_seconds: float


ONE_CLIP = ClipBounds((MIN_REFERENCE_VIDEO_SECONDS, MAX_REFERENCE_VIDEO_SECONDS), MAX_REFERENCE_VIDEO_SECONDS)
CLIPS = {"video": ONE_CLIP, "audio": ONE_CLIP}  # sounds have the same bounds as videos
VIDEO_SIDES = (300, 6000)
VIDEO_PIXELS = (409_600, 2_086_876)  # width x height of a reference video (ModelArk; fal says ~480p to ~720p)
FPS = (23.5, 60.5)  # 24-60 fps, with room for 23.976 and 59.94
