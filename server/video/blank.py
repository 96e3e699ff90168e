"""Which frames show nothing: near black (a fade, a cut to black) or one flat colour.

A poster or a first frame taken from such a frame tells a person nothing and starts a next shot from
nothing, so posters pass over them and contact sheets name them. Each frame is judged on a small grey
copy, which costs little however large the video is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageStat

from server.video import Blank

BLACK = 20.0  # mean grey level (of 255) below which a frame reads as black
FLAT = 6.0  # spread of grey levels below which a frame is one colour
FULL = 0.9  # a frame this near the video's brightest counts as lit, not part of a fade
JUDGED_SIDE = 96


@dataclass(frozen=True)
class Look:
    brightness: float  # mean grey level, 0-255
    detail: float  # standard deviation of the grey levels

    @property
    def blank(self) -> Blank | None:
        if self.brightness < BLACK:
            return "black"
        return "flat" if self.detail < FLAT else None


def look(image: Image.Image) -> Look:
    grey = image.convert("L")
    grey.thumbnail((JUDGED_SIDE, JUDGED_SIDE))
    stat = ImageStat.Stat(grey)
    return Look(stat.mean[0], stat.stddev[0])


def representative(times: Sequence[float], looks: Sequence[Look], target: float) -> int:
    """Which of these frames (in time order) shows the video best near `target` seconds.

    A frame must not be blank and must be about as bright as the video's brightest, so a frame halfway
    through a fade is passed over. One whose neighbours are lit too is preferred: it is clear of any
    fade. When every frame is blank (a video that is dark throughout), the one with the most to see.
    """
    shown = [i for i, seen in enumerate(looks) if seen.blank is None]
    if not shown:
        return max(range(len(looks)), key=lambda i: (looks[i].detail, looks[i].brightness))
    level = max(looks[i].brightness for i in shown)
    lit = {i for i in shown if looks[i].brightness >= FULL * level}
    steady = [i for i in lit if all(n in lit for n in (i - 1, i + 1) if 0 <= n < len(looks))]
    return min(steady or sorted(lit), key=lambda i: (abs(times[i] - target), -times[i]))
