"""Reading rendered videos back, and making input images, for the preview tests."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageOps

from server.media.file_urls import local_path
from server.video.frames import picture as rgb


@dataclass(frozen=True)
class Probe:
    codecs: dict[str, str]  # stream type -> codec name
    width: int
    height: int
    fps: float
    frames: int
    duration: float
    first: Image.Image
    last: Image.Image


def probe(path: Path) -> Probe:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        codecs = {str(stream.type): stream.codec_context.name for stream in container.streams}
        frames = [rgb(frame) for frame in container.decode(video=0)]
        duration = float(container.duration or 0) / av.time_base
        return Probe(
            codecs=codecs,
            width=video.codec_context.width,
            height=video.codec_context.height,
            fps=float(video.average_rate or 0),
            frames=len(frames),
            duration=duration,
            first=frames[0],
            last=frames[-1],
        )


def file_of(url: str) -> Path:
    path = local_path(url)
    assert path is not None, url
    return path


def picture(size: tuple[int, int], colour: tuple[int, int, int], mark: tuple[int, int, int]) -> bytes:
    """A PNG with a coloured field and a bold off-centre block, so that images are easy to tell apart."""
    image = Image.new("RGB", size, colour)
    w, h = size
    ImageDraw.Draw(image).rectangle((w // 5, h // 5, w // 2, h // 2), fill=mark)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def difference(frame: Image.Image, png: bytes) -> float:
    """Mean absolute difference (0-255) between a frame and an input image fitted to the frame's size."""
    expected = ImageOps.fit(Image.open(io.BytesIO(png)).convert("RGB"), frame.size)

    def small(image: Image.Image) -> NDArray[np.float64]:
        return np.asarray(image.resize((48, 48), Image.Resampling.BOX), dtype=np.float64)

    return float(np.abs(small(frame) - small(expected)).mean())


def frames_of(path: Path) -> list[tuple[float, NDArray[np.uint8]]]:
    """Every decoded frame, as RGB, with its time."""
    with av.open(str(path)) as container:
        return [(frame.time or 0.0, np.asarray(rgb(frame), dtype=np.uint8)) for frame in container.decode(video=0)]


def video_packets(path: Path) -> list[bytes]:
    """The video stream's packets as stored: what a stream copy must carry over unchanged."""
    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(video=0) if p.size]


def sound_of(path: Path) -> NDArray[np.float32]:
    """The whole sound track, decoded to 48 kHz stereo float samples (2, n)."""
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=48_000)
        chunks = [out.to_ndarray() for frame in container.decode(audio=0) for out in resampler.resample(frame)]
        chunks += [out.to_ndarray() for out in resampler.resample(None)]
    return np.concatenate(chunks, axis=1)


def mean_difference(a: NDArray[np.uint8], b: NDArray[np.uint8]) -> float:
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).mean())
