"""A poster frame: one JPEG that shows the video, small enough to send inline.

It is the lit, non-blank frame nearest a third of the way in (see `blank.representative`), chosen from
a dozen frames spread over the whole video, so a fade or a cut to black never becomes the poster.
"""

from __future__ import annotations

import io
from pathlib import Path

import av

from server.video.blank import JUDGED_SIDE, Look, look, representative
from server.video.frames import FAITHFUL, decoded_at, picture, sample_times, span

MAX_BYTES = 200 * 1024
MAX_SIDE = 640
CANDIDATES = 12


def _shrunk(frame: av.VideoFrame, side: int, format: str | None = None) -> av.VideoFrame:
    """The frame fitted within `side`, by swscale, in its own pixel format unless another is asked."""
    scale = min(1.0, side / frame.width, side / frame.height)
    width, height = max(1, round(frame.width * scale)), max(1, round(frame.height * scale))
    return frame.reformat(width=width, height=height, format=format, interpolation=FAITHFUL)


def _look(candidate: av.VideoFrame) -> Look:
    return look(_shrunk(candidate, JUDGED_SIDE, "rgb24").to_image())  # type: ignore[no-untyped-call]


def poster_jpeg(video: Path) -> bytes:
    duration, fps = span(video)
    target = duration / 3
    times = sorted({*sample_times(duration, fps, CANDIDATES), target})
    # Candidates are kept small and still in YUV, and judged on a thumbnail: only the chosen one is
    # converted to RGB at the poster's size, which is most of a poster's CPU when every one is.
    picked = decoded_at(video, times, lambda frame: _shrunk(frame, MAX_SIDE), exact=False)  # a frame early is fine
    best = representative([t for t, _ in picked], [_look(frame) for _, frame in picked], target)
    image = picture(picked[best][1])
    for quality in (85, 75, 60, 45, 30):
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=quality, optimize=True)
        if out.tell() <= MAX_BYTES:
            break
        image.thumbnail((image.width * 3 // 4, image.height * 3 // 4))
    return out.getvalue()
