"""A poster frame: one JPEG that shows the video, small enough to send inline.

It is the lit, non-blank frame nearest a third of the way in (see `blank.representative`), chosen from
a dozen frames spread over the whole video, so a fade or a cut to black never becomes the poster.
"""

from __future__ import annotations

import io
from pathlib import Path

from server.video.blank import look, representative
from server.video.frames import frames_at, sample_times, span

MAX_BYTES = 200 * 1024
MAX_SIDE = 640
CANDIDATES = 12


def poster_jpeg(video: Path) -> bytes:
    duration, fps = span(video)
    target = duration / 3
    times = sorted({*sample_times(duration, fps, CANDIDATES), target})
    picked = frames_at(video, times, max_side=MAX_SIDE, exact=False)  # a frame or two early is still the video
    best = representative([t for t, _ in picked], [look(image) for _, image in picked], target)
    image = picked[best][1]
    for quality in (85, 75, 60, 45, 30):
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=quality, optimize=True)
        if out.tell() <= MAX_BYTES:
            break
        image.thumbnail((image.width * 3 // 4, image.height * 3 // 4))
    return out.getvalue()
