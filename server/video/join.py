"""Joining clips into one MP4 film, H.264 and AAC, shot after shot on one timeline.

By stream copy when every clip's pictures share their codec parameters (the normal case: one host, one
resolution), so no generation is lost and a minute of film joins in well under a second. Otherwise, and
for fades, the pictures are re-encoded to the first clip's size, letterboxed, never stretched.

The sound runs the whole length: copied when every clip has the same AAC sound as long as its
pictures, otherwise decoded and encoded once, with silence where a clip has none. A copied join drops
the later clip's AAC pre-roll packet (about 21 ms that would overlap the clip before), as players do.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
import numpy as np
from av.video.frame import PictureType
from PIL import Image

from server.video import Transition
from server.video.clips import Clip, read_clip
from server.video.frames import picture as rgb

Method = Literal["stream copy", "re-encode"]

FADE_SECONDS = 0.5  # each side of a join: the picture dips to black and the sound to silence
SAMPLE_RATE = 48_000
AUDIO_FRAME = 1024
X264_OPTIONS = {"preset": "veryfast", "crf": "18"}


@dataclass(frozen=True)
class Joined:
    method: Method
    sound: Literal["copied", "re-encoded", "none"]
    duration: float
    size: tuple[int, int]


def choose(clips: Sequence[Clip], transition: Transition) -> tuple[Method, bool]:
    """How the pictures are joined, and whether the sound can be copied as it is."""
    first = clips[0]
    copy_video = (
        transition == "cut" and first.video.codec == "h264" and all(c.video.copies_with(first.video) for c in clips)
    )
    copy_audio = (
        copy_video
        and first.audio is not None
        and first.audio.codec == "aac"
        and all(
            c.audio is not None
            and c.audio.copies_with(first.audio)
            and abs(c.audio.end - c.video.end) * int(c.audio.shape[0]) <= AUDIO_FRAME
            for c in clips
        )
    )
    return ("stream copy" if copy_video else "re-encode"), copy_audio


def join(paths: Sequence[Path], target: Path, transition: Transition = "cut") -> Joined:
    """Write the film to `target` (through a .part file, so a file under its name is always whole)."""
    clips = [read_clip(path) for path in paths]
    method, copy_audio = choose(clips, transition)
    part = target.with_name(target.name + ".part")
    try:
        with av.open(str(part), mode="w", format="mp4", options={"movflags": "+faststart"}) as output:
            if method == "stream copy":
                _copy(clips, output, copy_audio)
            else:
                _reencode(clips, output, transition)
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)
    has_sound = any(c.audio is not None for c in clips)
    sound: Literal["copied", "re-encoded", "none"] = "copied" if copy_audio else "re-encoded" if has_sound else "none"
    return Joined(method, sound, round(sum(c.duration for c in clips), 3), clips[0].size)


class SoundTrack:
    """The film's sound, encoded once as AAC: each clip's samples fitted exactly to its length."""

    def __init__(self, output: av.container.OutputContainer) -> None:
        self._output = output
        self.stream = output.add_stream("aac", rate=SAMPLE_RATE, layout="stereo")
        self.stream.codec_context.open()  # before the first packet is muxed: the header needs every stream
        self._carry = np.zeros((2, 0), dtype=np.float32)
        self._written = 0

    def add(self, clip: Clip, samples: np.ndarray, fade_in: bool, fade_out: bool) -> None:
        length = round(clip.duration * SAMPLE_RATE)
        fitted = np.zeros((2, length), dtype=np.float32)
        fitted[:, : min(length, samples.shape[1])] = samples[:, :length]
        ramp = min(round(FADE_SECONDS * SAMPLE_RATE), length // 2)
        if ramp and fade_in:
            fitted[:, :ramp] *= np.linspace(0.0, 1.0, ramp, dtype=np.float32)
        if ramp and fade_out:
            fitted[:, -ramp:] *= np.linspace(1.0, 0.0, ramp, dtype=np.float32)
        self._carry = np.concatenate([self._carry, fitted], axis=1)
        whole = self._carry.shape[1] - self._carry.shape[1] % AUDIO_FRAME
        self._encode(self._carry[:, :whole])
        self._carry = self._carry[:, whole:]

    def _encode(self, samples: np.ndarray) -> None:
        for start in range(0, samples.shape[1], AUDIO_FRAME):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(samples[:, start : start + AUDIO_FRAME]), format="fltp", layout="stereo"
            )
            frame.sample_rate = SAMPLE_RATE
            frame.pts = self._written
            self._written += frame.samples
            self._output.mux(self.stream.encode(frame))

    def close(self) -> None:
        if self._carry.shape[1]:
            self._encode(self._carry)
        self._output.mux(self.stream.encode(None))


def _samples(container: av.container.InputContainer) -> np.ndarray:
    """A clip's whole sound as 48 kHz stereo, from its first heard sample."""
    if not container.streams.audio:
        return np.zeros((2, 0), dtype=np.float32)
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=SAMPLE_RATE)
    chunks = [
        out.to_ndarray() for frame in container.decode(container.streams.audio[0]) for out in resampler.resample(frame)
    ]
    chunks += [out.to_ndarray() for out in resampler.resample(None)]
    return np.concatenate(chunks, axis=1).astype(np.float32) if chunks else np.zeros((2, 0), dtype=np.float32)


def _copy(clips: Sequence[Clip], output: av.container.OutputContainer, copy_audio: bool) -> None:
    with av.open(str(clips[0].path)) as first:
        video_out = output.add_stream_from_template(first.streams.video[0])
        audio_out = output.add_stream_from_template(first.streams.audio[0]) if copy_audio else None
    sound = SoundTrack(output) if not copy_audio and any(c.audio for c in clips) else None
    offset = 0.0
    last_dts: dict[str, int] = {}
    for clip in clips:
        with av.open(str(clip.path)) as container:
            streams = [container.streams.video[0]] + (list(container.streams.audio[:1]) if copy_audio else [])
            for packet in container.demux(*streams):
                if packet.dts is None or packet.time_base is None:
                    continue  # the demuxer's end-of-stream marker
                kind = packet.stream.type
                start = clip.video.start if kind == "video" else 0.0
                shift = round((offset - start) / packet.time_base)
                packet.pts = None if packet.pts is None else packet.pts + shift
                packet.dts += shift
                if packet.dts <= last_dts.get(kind, -(2**62)):
                    continue  # a later clip's AAC pre-roll, overlapping the clip before
                last_dts[kind] = packet.dts
                packet.stream = video_out if kind == "video" else audio_out  # type: ignore[assignment]
                output.mux(packet)
        if sound is not None:
            with av.open(str(clip.path)) as container:
                sound.add(clip, _samples(container), False, False)
        offset += clip.duration
    if sound is not None:
        sound.close()


def _letterbox(size: tuple[int, int], inner: tuple[int, int]) -> tuple[tuple[int, int], tuple[int, int]]:
    """The size a picture of `inner` shape takes inside `size` without stretching, and where it sits."""
    scale = min(size[0] / inner[0], size[1] / inner[1])
    fitted = (max(2, round(inner[0] * scale)), max(2, round(inner[1] * scale)))
    return fitted, ((size[0] - fitted[0]) // 2, (size[1] - fitted[1]) // 2)


def _pictures(clip: Clip, size: tuple[int, int]) -> Iterator[tuple[float, Callable[[float], av.VideoFrame]]]:
    """(time in the clip, draw(brightness)) for each frame, fitted to `size`."""
    fitted, corner = _letterbox(size, clip.size)
    with av.open(str(clip.path)) as container:
        for frame in container.decode(container.streams.video[0]):
            at = (frame.time or 0.0) - clip.video.start

            def draw(light: float, frame: av.VideoFrame = frame) -> av.VideoFrame:
                if clip.size == size and light >= 1.0:
                    same = frame.reformat(format="yuv420p")
                    same.pict_type = PictureType.NONE  # the encoder picks its own frame types
                    return same
                picture = rgb(frame)
                if clip.size != size:
                    canvas = Image.new("RGB", size)
                    canvas.paste(picture.resize(fitted, Image.Resampling.BICUBIC), corner)
                    picture = canvas
                if light < 1.0:
                    picture = Image.eval(picture, lambda v: int(v * light))
                drawn: av.VideoFrame = av.VideoFrame.from_image(picture)  # type: ignore[no-untyped-call]
                return drawn.reformat(format="yuv420p")

            yield at, draw


def _reencode(clips: Sequence[Clip], output: av.container.OutputContainer, transition: Transition) -> None:
    size, fps = clips[0].size, clips[0].fps
    video = output.add_stream("libx264", rate=fps, options=X264_OPTIONS)
    video.width, video.height, video.pix_fmt = size[0], size[1], "yuv420p"
    video.codec_context.time_base = Fraction(1) / fps
    video.codec_context.open()
    sound = SoundTrack(output) if any(c.audio for c in clips) else None
    fade = transition == "fade"
    offset, written = 0.0, 0
    for number, clip in enumerate(clips):
        fade_in, fade_out = fade and number > 0, fade and number < len(clips) - 1
        end = round((offset + clip.duration) * fps)
        for at, draw in _pictures(clip, size):
            index = round((offset + at) * fps)
            if index < written or index >= end:
                continue  # a faster clip's frame between two of the film's, or past the clip's end
            light = 1.0
            if fade_in:
                light = min(light, at / FADE_SECONDS)
            if fade_out:
                light = min(light, (clip.duration - at - 1 / float(fps)) / FADE_SECONDS)
            picture = draw(max(0.0, min(1.0, light)))
            picture.time_base = video.codec_context.time_base  # counted in frames from here on
            while written <= index:  # a slower clip's frame is held until the next one is due
                picture.pts = written
                output.mux(video.encode(picture))
                written += 1
        if sound is not None:
            with av.open(str(clip.path)) as container:
                sound.add(clip, _samples(container), fade_in, fade_out)
        offset += clip.duration
    output.mux(video.encode(None))
    if sound is not None:
        sound.close()
