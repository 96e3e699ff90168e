"""A contact sheet: evenly spaced frames of a video on one JPEG, each stamped with its time.

It is what lets a model judge motion it cannot play: the first and last frames are always on it, so
the model sees where a shot begins and where the next one should start. Frames that show nothing
(black, one flat colour) are named, so a next shot is not started from one. The sheet stays within what
vision models take well: at most 1568 px on its long side and 250 KB.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

from server.preview.lettering import draw_line, fonts, width_of
from server.video import Blank
from server.video.blank import look
from server.video.frames import frames_at, sample_times

MAX_SIDE = 1568
MAX_BYTES = 250 * 1024
GAP = 4
QUALITIES = (85, 75, 65, 55, 45, 35)


@dataclass(frozen=True)
class Sheet:
    jpeg: bytes
    times: list[float]  # each frame's own timestamp, in reading order
    blank: list[Blank | None]  # which frames show nothing, by the rule posters use
    columns: int
    tile: tuple[int, int]  # one frame's width and height on the sheet
    gap: int


def _layout(count: int, width: int, height: int, shrink: float) -> tuple[int, int, tuple[int, int]]:
    """Columns, rows and tile size: near square overall, within MAX_SIDE, scaled further by `shrink`."""
    columns = max(1, min(count, round(math.sqrt(count * height / width)) or 1))
    rows = math.ceil(count / columns)
    scale = shrink * min(
        1.0, (MAX_SIDE - GAP * (columns - 1)) / (columns * width), (MAX_SIDE - GAP * (rows - 1)) / (rows * height)
    )
    return columns, rows, (max(1, int(width * scale)), max(1, int(height * scale)))


def _stamp(tile: Image.Image, seconds: float) -> None:
    """The frame's time in its top-left corner, white on black, readable at any tile size."""
    chain = fonts(max(12, tile.height // 9))
    text = f"{seconds:.2f} s"
    pad = chain[0].size // 3
    width = width_of(text, chain) + 2 * pad
    draw = ImageDraw.Draw(tile)
    draw.rectangle((0, 0, width, chain[0].size + 2 * pad), fill=(0, 0, 0))
    draw_line(draw, (width / 2, pad), text, chain, fill=(255, 255, 255))


def contact_sheet(video: Path, duration: float, fps: float, count: int) -> Sheet:
    picked = frames_at(video, sample_times(duration, fps, count))
    times, blank = [seconds for seconds, _ in picked], [look(image).blank for _, image in picked]
    width, height = picked[0][1].size
    shrink = 1.0
    while True:
        columns, rows, tile = _layout(count, width, height, shrink)
        sheet = Image.new("RGB", (columns * (tile[0] + GAP) - GAP, rows * (tile[1] + GAP) - GAP), (24, 24, 24))
        for index, (seconds, image) in enumerate(picked):
            small = image.convert("RGB").resize(tile, Image.Resampling.BILINEAR, reducing_gap=2.0)
            _stamp(small, seconds)
            row, column = divmod(index, columns)
            sheet.paste(small, (column * (tile[0] + GAP), row * (tile[1] + GAP)))
        for quality in QUALITIES:
            out = io.BytesIO()
            sheet.save(out, format="JPEG", quality=quality, optimize=True)
            if out.tell() <= MAX_BYTES:
                return Sheet(out.getvalue(), times, blank, columns, tile, GAP)
        shrink *= 0.8  # detail the sheet cannot hold at its size: smaller tiles
