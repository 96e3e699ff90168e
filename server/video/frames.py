"""Single frames of a video, picked by time: the picture a next shot can start from.

The frame "at" a time is the one on screen then: the last frame whose timestamp is not after it.
Frames are decoded one at a time, so memory stays at one frame however long the video is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TypeVar

import av
from av.video.reformatter import Interpolation
from PIL import Image

from server.inputs.formats import Which

T = TypeVar("T")

TOLERANCE = 1e-3  # seconds: a time written to the millisecond still names its frame

# Chroma rebuilt at full width with exact rounding. swscale's default path, which ffmpeg's command line
# takes too, gives back every pixel about 1.2 levels darker; a chain of shots would darken at each join.
FAITHFUL = Interpolation.BILINEAR | Interpolation.ACCURATE_RND | Interpolation.FULL_CHR_H_INT


def picture(frame: av.VideoFrame) -> Image.Image:
    """The frame as an RGB image, in the colours it was encoded from."""
    return frame.to_image(interpolation=FAITHFUL)  # type: ignore[no-untyped-call, no-any-return]


def _times(container: av.container.InputContainer, exact: bool = True) -> Iterable[tuple[float, av.VideoFrame]]:
    stream = container.streams.video[0]
    if not exact:
        stream.codec_context.skip_frame = "NONREF"  # frames no other frame is decoded from are never decoded
    for frame in container.decode(stream):
        yield (frame.time or 0.0), frame


def sample_times(duration: float, fps: float, count: int) -> list[float]:
    """`count` times from the first frame to the last, evenly spaced and on frame boundaries."""
    if not fps:
        return [duration * i / (count - 1) for i in range(count)]
    last = max(round(duration * fps) - 1, 0)  # the last frame's index
    return [round(last * i / (count - 1)) / fps for i in range(count)]


def span(video: Path) -> tuple[float, float]:
    """The video's duration and frame rate from its header, without decoding anything."""
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        seconds = float(stream.duration * stream.time_base) if stream.duration and stream.time_base else 0.0
        return seconds or float(container.duration or 0) / av.time_base, float(stream.average_rate or 0)


def decoded_at(
    video: Path, times: Sequence[float], take: Callable[[av.VideoFrame], T], *, exact: bool = True
) -> list[tuple[float, T]]:
    """For each time (ascending), `take` of the frame on screen then, and that frame's own timestamp, in
    one pass. Only what `take` keeps outlives the pass, so memory is what it keeps plus one frame.

    With `exact=False`, frames that no other frame is decoded from (most B-frames) are skipped undecoded,
    which saves a third to a half of the decoding: each frame is then the last kept one at or before its
    time, a frame or two early. A poster may be; the first frame of a next shot may not.
    """
    picked: list[tuple[float, T]] = []
    wanted = list(times)
    with av.open(str(video)) as container:
        shown: tuple[float, av.VideoFrame] | None = None
        for at, frame in _times(container, exact):
            while wanted and at > wanted[0] + TOLERANCE and shown is not None:
                picked.append((shown[0], take(shown[1])))
                wanted.pop(0)
            if not wanted:
                break
            shown = (at, frame)
        if shown is None:
            raise ValueError(f"{video.name} has no video frames")
        if wanted:
            last = (shown[0], take(shown[1]))
            picked += [last for _ in wanted]
    return picked


def frames_at(video: Path, times: Sequence[float]) -> list[tuple[float, Image.Image]]:
    """For each time (ascending), the frame on screen then, exactly, as RGB, and its own timestamp."""
    return decoded_at(video, times, picture)


def frame(video: Path, which: Which) -> Image.Image:
    """The first frame, the last one, or the one on screen at `which` seconds, as RGB."""
    if which == "first":
        with av.open(str(video)) as container:
            for _, first in _times(container):
                return picture(first)
        raise ValueError(f"{video.name} has no video frames")
    at = float("inf") if which == "last" else float(which)
    return frames_at(video, [at])[0][1]
