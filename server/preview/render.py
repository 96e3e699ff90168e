"""Rendering a preview to MP4: H.264 at 24 fps, and AAC when sound is asked for.

Each frame is a camera view (see `camera.py`) of a still, cross-faded where shots change and toward the
end image, with the preview label burnt in. The file is written beside its final name and moved into
place when complete, so a file under its final name is always a whole video.
"""

from __future__ import annotations

import math
import os
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image

from server.catalog import Mode
from server.preview.audio import SAMPLE_RATE, sound_bed
from server.preview.camera import Move, View, camera_move, ease, view_at
from server.preview.pictures import backdrop, decode, fit, label, scene_card

FPS = 24
AUDIO_FRAME = 1024
CROSSFADE_SECONDS = 0.5
REFERENCE_MOVES: tuple[Move, ...] = ("push_in", "pan_right", "push_in", "pan_left")
X264_OPTIONS = {"preset": "veryfast", "crf": "23"}
WORKERS = 2  # frames are drawn ahead on this many threads (Pillow and swscale release the GIL)
LOOKAHEAD = 8  # frames drawn ahead of the encoder at most: bounds memory to a few frames


class RenderCancelled(Exception):
    """Raised inside `render` when `cancelled()` turns true; the partial file is removed."""


@dataclass(frozen=True)
class RenderSpec:
    mode: Mode
    prompt: str
    width: int
    height: int
    seconds: int
    audio: bool
    seed: int
    images: tuple[bytes, ...] = field(default=(), repr=False)  # the start image, or the reference images
    end_image: bytes | None = field(default=None, repr=False)

    @property
    def frames(self) -> int:
        return self.seconds * FPS


@dataclass(frozen=True)
class Shot:
    picture: Image.Image
    move: Move

    @property
    def surround(self) -> Image.Image:
        return backdrop(self.picture)

    def view(self, view: View, size: tuple[int, int], surround: Image.Image | None = None) -> Image.Image:
        width, height = size
        if view.scale > 1:  # pulled out: the whole picture, smaller, over a blur of itself
            inner = (round(width / view.scale), round(height / view.scale))
            frame = (surround or self.surround).copy()
            frame.paste(
                self.picture.resize(inner, Image.Resampling.BILINEAR),
                ((width - inner[0]) // 2, (height - inner[1]) // 2),
            )
            return frame
        w, h = width * view.scale, height * view.scale
        x, y = view.cx * width, view.cy * height
        if not view.angle:
            box = (x - w / 2, y - h / 2, x + w / 2, y + h / 2)
            return self.picture.resize(size, Image.Resampling.BILINEAR, box=box)
        turn = math.radians(view.angle)
        c, s, k = math.cos(turn), math.sin(turn), view.scale
        affine = (
            k * c,
            k * s,
            x - k * (c * width + s * height) / 2,
            -k * s,
            k * c,
            y - k * (-s * width + c * height) / 2,
        )
        return self.picture.transform(size, Image.Transform.AFFINE, affine, Image.Resampling.BILINEAR)


def shots_for(spec: RenderSpec, size: tuple[int, int]) -> list[Shot]:
    if spec.mode == "text-to-video" or not spec.images:
        return [Shot(scene_card(spec.prompt, size, spec.seed), camera_move(spec.prompt))]
    if spec.mode == "image-to-video":
        return [Shot(fit(decode(spec.images[0]), size), camera_move(spec.prompt))]
    return [
        Shot(fit(decode(data), size), REFERENCE_MOVES[i % len(REFERENCE_MOVES)]) for i, data in enumerate(spec.images)
    ]


def frame_at(
    index: int,
    spec: RenderSpec,
    shots: list[Shot],
    end: Image.Image | None,
    surrounds: dict[int, Image.Image] | None = None,
) -> Image.Image:
    size = (spec.width, spec.height)
    last = spec.frames - 1
    t = index / last if last else 1.0
    span = spec.frames / len(shots)
    number = min(int(index / span), len(shots) - 1)
    local = (index - number * span) / max(span - 1, 1)
    shot = shots[number]
    frame = shot.view(view_at(shot.move, min(local, 1.0)), size, (surrounds or {}).get(id(shot)))
    fade = CROSSFADE_SECONDS * FPS
    into_next = index - ((number + 1) * span - fade)
    if number + 1 < len(shots) and into_next > 0:
        following = shots[number + 1].view(view_at(shots[number + 1].move, 0.0), size)
        frame = Image.blend(frame, following, ease(into_next / fade))
    if end is not None and t > 0.5:  # arrive on the end image over the second half
        frame = Image.blend(frame, end, ease((t - 0.5) / 0.5))
    return frame


def _write_audio(container: av.container.OutputContainer, seconds: int, seed: int) -> None:
    stream = container.add_stream("aac", rate=SAMPLE_RATE, layout="stereo")
    samples = sound_bed(seconds, seed)
    for start in range(0, samples.shape[1], AUDIO_FRAME):
        chunk = av.AudioFrame.from_ndarray(
            samples[:, start : start + AUDIO_FRAME].copy(), format="fltp", layout="stereo"
        )
        chunk.sample_rate = SAMPLE_RATE
        chunk.pts = start
        for packet in stream.encode(chunk):
            container.mux(packet)
    for packet in stream.encode(None):
        container.mux(packet)


class Frames:
    """Draws the frames of a spec, each as a YUV frame ready for the encoder; safe to call from threads."""

    def __init__(self, spec: RenderSpec) -> None:
        self.spec = spec
        size = (spec.width, spec.height)
        self.shots = shots_for(spec, size)
        self.surrounds = {id(shot): shot.surround for shot in self.shots if shot.move == "pull_out"}
        self.end = fit(decode(spec.end_image), size) if spec.end_image else None
        self.tag = label(*size)
        self.corner = (self.tag.height // 2, spec.height - self.tag.height - self.tag.height // 2)

    def __call__(self, index: int) -> av.VideoFrame:
        picture = frame_at(index, self.spec, self.shots, self.end, self.surrounds)
        picture.paste(self.tag, self.corner, self.tag)
        frame: av.VideoFrame = av.VideoFrame.from_image(picture).reformat(format="yuv420p")  # type: ignore[no-untyped-call]
        frame.pts = index
        return frame


def render(
    spec: RenderSpec,
    path: Path,
    progress: Callable[[int, int], None] = lambda done, total: None,
    cancelled: Callable[[], bool] = lambda: False,
) -> None:
    """Write the preview to `path`; `progress(frames_done, frames)` is called after every frame."""
    draw = Frames(spec)
    part = path.with_name(path.name + ".part")
    pending: deque[Future[av.VideoFrame]] = deque()
    try:
        with (
            ThreadPoolExecutor(WORKERS, thread_name_prefix="preview") as pool,
            av.open(str(part), mode="w", format="mp4", options={"movflags": "+faststart"}) as container,
        ):
            video = container.add_stream("libx264", rate=FPS, options=X264_OPTIONS)
            video.width, video.height, video.pix_fmt = spec.width, spec.height, "yuv420p"
            video.codec_context.time_base = Fraction(1, FPS)
            if spec.audio:
                _write_audio(container, spec.seconds, spec.seed)
            upcoming = iter(range(spec.frames))
            for index in range(spec.frames):
                while len(pending) < LOOKAHEAD and (following := next(upcoming, None)) is not None:
                    pending.append(pool.submit(draw, following))
                if cancelled():
                    raise RenderCancelled
                for packet in video.encode(pending.popleft().result()):
                    container.mux(packet)
                progress(index + 1, spec.frames)
            for packet in video.encode(None):
                container.mux(packet)
        os.replace(part, path)
    finally:
        for future in pending:
            future.cancel()
        part.unlink(missing_ok=True)
