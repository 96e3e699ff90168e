"""A poster frame: one JPEG from a third of the way into a video, small enough to send inline."""

from __future__ import annotations

import io
from pathlib import Path

import av
from PIL import Image

from server.video.frames import picture

MAX_BYTES = 200 * 1024
MAX_SIDE = 640


def write_poster(video: Path, poster: Path) -> None:
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        target = float(container.duration or 0) / av.time_base / 3
        picked: Image.Image | None = None
        for frame in container.decode(stream):  # decoded one at a time: memory stays at one frame
            picked = picture(frame)
            if frame.time is not None and frame.time >= target:
                break
    if picked is None:
        raise ValueError("the video has no frames")
    image = picked.convert("RGB")
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    for quality in (85, 75, 60, 45, 30):
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=quality, optimize=True)
        if out.tell() <= MAX_BYTES:
            break
        image.thumbnail((image.width * 3 // 4, image.height * 3 // 4))
    poster.write_bytes(out.getvalue())
