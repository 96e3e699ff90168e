"""Reference videos and sounds judged the way the hosts judge them: the container opens, the stream the
slot needs is there and its first frame decodes, and its length, size and rate are within the bounds.

Only the header and one frame are read, so checking a clip costs the same whatever its length.
"""

from __future__ import annotations

from typing import BinaryIO, Literal

from server.errors import InvalidArguments
from server.inputs.limits import ANY_CLIP, EACH_MODEL, FPS, VIDEO_PIXELS, VIDEO_SIDES

FORMATS = {"video": "an MP4 or MOV with a video stream", "audio": "an MP3 or WAV"}


def clip_seconds(field: str, name: str, data: str | BinaryIO, kind: Literal["video", "audio"]) -> float:
    """The clip's length in seconds, once it is shown to be one the hosts take; InvalidArguments if not."""
    import av  # only calls with clips pay for loading FFmpeg

    fix = f"pass {FORMATS[kind]} that plays"
    try:
        with av.open(data, mode="r") as container:
            streams = container.streams.video if kind == "video" else container.streams.audio
            if not streams:
                raise InvalidArguments(field, f"{name} has no {kind} stream", fix)
            stream = streams[0]
            if next(iter(container.decode(stream)), None) is None:
                raise InvalidArguments(field, f"{name} has no {kind} frame that decodes", fix)
            span = container.duration / av.time_base if container.duration else 0.0
            if not span and stream.duration and stream.time_base:
                span = float(stream.duration * stream.time_base)
            if isinstance(stream, av.VideoStream):
                _check_picture(field, name, stream.codec_context.width, stream.codec_context.height)
                _check_rate(field, name, float(stream.average_rate or 0))
    except (av.FFmpegError, OSError, ValueError, StopIteration):
        raise InvalidArguments(field, f"{name} does not open as {FORMATS[kind]}", fix) from None
    low, high = ANY_CLIP
    if not low <= span <= high:
        raise InvalidArguments(
            field,
            f"{name} lasts {span:.1f} s",
            f"pass a clip of {low:g} to {high:g} s, as the model takes",
            allowed=f"each {kind} clip, {EACH_MODEL}",
        )
    return span


def _check_picture(field: str, name: str, width: int, height: int) -> None:
    low, high = VIDEO_SIDES
    fewest, most = VIDEO_PIXELS
    allowed = f"{low} to {high} px a side, {fewest:,} to {most:,} pixels a frame, width/height 0.4 to 2.5"
    fits = low <= min(width, height) and max(width, height) <= high and fewest <= width * height <= most
    if not fits or not 0.4 <= width / max(height, 1) <= 2.5:
        raise InvalidArguments(
            field, f"{name} is {width}x{height}", "scale it to between 480p and 1080p", allowed=allowed
        )


def _check_rate(field: str, name: str, fps: float) -> None:
    if not FPS[0] <= fps <= FPS[1]:
        raise InvalidArguments(
            field, f"{name} plays at {fps:g} fps", "re-encode it at 24 to 60 fps", allowed="24 to 60 fps"
        )
