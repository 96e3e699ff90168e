"""What joining needs to know of each clip, read from its packets without decoding a frame."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av


@dataclass(frozen=True)
class Track:
    """One stream's codec parameters and where it starts and ends, in seconds."""

    codec: str
    extradata: bytes
    start: float
    end: float
    shape: tuple[int | str, ...]  # video: width, height, pixel format; audio: sample rate, layout

    def copies_with(self, other: Track) -> bool:
        """Whether the two can share one stream of a file without re-encoding either."""
        return (self.codec, self.extradata, self.shape) == (other.codec, other.extradata, other.shape)


@dataclass(frozen=True)
class Clip:
    path: Path
    video: Track
    audio: Track | None
    fps: Fraction

    @property
    def duration(self) -> float:
        """The clip's length on the film's timeline: its pictures, from the first frame to the end of the last."""
        return self.video.end - self.video.start

    @property
    def size(self) -> tuple[int, int]:
        width, height = self.video.shape[:2]
        return int(width), int(height)


def read_clip(path: Path) -> Clip:
    with av.open(str(path)) as container:
        if not container.streams.video:
            raise ValueError(f"{path.name} has no video stream")
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        bounds: dict[int, list[float]] = {}
        for packet in container.demux(*[s for s in (video, audio) if s is not None]):
            if packet.pts is None or packet.time_base is None:
                continue
            start = float(packet.pts * packet.time_base)
            end = float((packet.pts + (packet.duration or 0)) * packet.time_base)
            low, high = bounds.setdefault(packet.stream.index, [start, end])
            bounds[packet.stream.index] = [min(low, start), max(high, end)]
        if video.index not in bounds:
            raise ValueError(f"{path.name} has no video frames")
        context = video.codec_context
        picture = Track(
            context.name,
            bytes(context.extradata or b""),
            max(bounds[video.index][0], 0.0),
            bounds[video.index][1],
            (context.width, context.height, str(context.pix_fmt)),
        )
        sound = None
        if audio is not None and audio.index in bounds:
            heard = audio.codec_context
            sound = Track(
                heard.name,
                bytes(heard.extradata or b""),
                max(bounds[audio.index][0], 0.0),  # before 0 is the encoder's pre-roll, never heard
                bounds[audio.index][1],
                (heard.sample_rate, str(heard.layout.name)),
            )
        return Clip(path, picture, sound, Fraction(video.average_rate or 24))
