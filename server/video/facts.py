"""What a video file is, read from the file itself: length, frame rate, size, codecs and sound level."""

from __future__ import annotations

import math
from pathlib import Path

from pydantic import BaseModel, Field


class VideoFacts(BaseModel):
    duration: float = Field(description="Seconds, from the first frame to the end of the last.")
    fps: float = Field(description="Frames per second.")
    frames: int = Field(description="How many frames the video holds.")
    width: int
    height: int
    video_codec: str = Field(description='E.g. "h264".')
    audio_codec: str | None = Field(description='E.g. "aac"; null when the file has no sound track.')
    has_audio: bool
    loudness_dbfs: float | None = Field(
        description=(
            "The sound's RMS level over the whole file in dBFS: 0 is full scale, about -20 is lively, below -50 "
            "is near silence. Null when there is no sound track or it is digital silence."
        )
    )
    peak_dbfs: float | None = Field(description="The loudest sample in dBFS; null as for loudness_dbfs.")
    file_size: int = Field(description="Bytes.")


def _db(value: float) -> float | None:
    return round(20 * math.log10(value), 1) if value > 0 else None


def read_facts(video: Path) -> VideoFacts:
    """Every fact in one pass over the packets and the decoded sound (video frames are counted, not decoded)."""
    import av
    import numpy as np

    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        frames, end = 0, 0.0
        squares, samples, peak = 0.0, 0, 0.0
        audio = container.streams.audio[0] if container.streams.audio else None
        for packet in container.demux(*([stream] + ([audio] if audio else []))):
            if packet.stream.type == "video":
                if packet.pts is not None and packet.size:
                    frames += 1
                    ends = (packet.pts + (packet.duration or 0)) * float(stream.time_base or 0)
                    end = max(end, ends)
                continue
            for chunk in packet.decode():
                data = np.asarray(chunk.to_ndarray(), dtype=np.float64)  # type: ignore[union-attr]
                if chunk.format.name.startswith(("s16", "s32")):  # type: ignore[union-attr]
                    data /= float(2 ** (chunk.format.bits - 1))  # type: ignore[union-attr]
                squares += float(np.sum(data * data))
                samples += data.size
                peak = max(peak, float(np.max(np.abs(data))) if data.size else 0.0)
        start = float(stream.start_time or 0) * float(stream.time_base or 0)
        context = stream.codec_context
        return VideoFacts(
            duration=round(end - start, 3),
            fps=round(float(stream.average_rate or 0), 3),
            frames=frames,
            width=context.width,
            height=context.height,
            video_codec=context.name,
            audio_codec=audio.codec_context.name if audio else None,
            has_audio=audio is not None,
            loudness_dbfs=_db(math.sqrt(squares / samples)) if samples else None,
            peak_dbfs=_db(peak),
            file_size=video.stat().st_size,
        )
