"""Reading back what a rendered file is: pixel size, frame rate, duration and sound."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av


@dataclass(frozen=True)
class VideoFacts:
    width: int
    height: int
    fps: float
    duration: float
    audio: str | None  # the audio codec, or None for a silent file


def probe_file(path: Path) -> VideoFacts:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0].codec_context.name if container.streams.audio else None
        return VideoFacts(
            width=video.codec_context.width,
            height=video.codec_context.height,
            fps=float(video.average_rate or 0),
            duration=float(container.duration or 0) / av.time_base,
            audio=audio,
        )
