"""make_film's join: 6 clips of 15 s at 720p, by stream copy, against re-encoding and against
`ffmpeg -f concat -c copy` in the same run; and inspect_video's facts and contact sheet on one clip.

The clips are H.264/AAC made here with the preview's encoder settings, each from a moving gradient, so
their codec parameters match as one host's output at one resolution does.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

CLIPS = 6
SECONDS = 15
SIZE = (1280, 720)
FPS = 24
RUNS = 3


def make_clip(path: Path, seed: int) -> None:
    import av
    import numpy as np

    with av.open(str(path), mode="w", format="mp4") as container:
        video = container.add_stream("libx264", rate=FPS, options={"preset": "ultrafast", "crf": "23"})
        video.width, video.height, video.pix_fmt = SIZE[0], SIZE[1], "yuv420p"
        video.codec_context.time_base = Fraction(1, FPS)
        sound = container.add_stream("aac", rate=48_000, layout="stereo")
        sound.codec_context.open()
        video.codec_context.open()
        ramp = np.linspace(0, 255, SIZE[0], dtype=np.float32)
        for index in range(SECONDS * FPS):
            row = ((ramp + index * 4 + seed * 40) % 256).astype(np.uint8)
            picture = np.repeat(np.repeat(row[None, :, None], SIZE[1], axis=0), 3, axis=2)
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = index
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        t = np.arange(SECONDS * 48_000, dtype=np.float32) / 48_000
        tone = np.stack([0.2 * np.sin(2 * np.pi * (220 + 20 * seed) * t)] * 2).astype(np.float32)
        for start in range(0, tone.shape[1], 1024):
            chunk = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(tone[:, start : start + 1024]), format="fltp", layout="stereo"
            )
            chunk.sample_rate, chunk.pts = 48_000, start
            container.mux(sound.encode(chunk))
        container.mux(sound.encode(None))


def _median(run: Callable[[], object]) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure() -> list[dict[str, Any]]:
    from server.video.join import join
    from server.video.sheet import contact_sheet
    from tools.inspect_video import _look

    ffmpeg = shutil.which("ffmpeg")
    with tempfile.TemporaryDirectory() as folder:
        here = Path(folder)
        clips = [here / f"clip{n}.mp4" for n in range(CLIPS)]
        for n, clip in enumerate(clips):
            make_clip(clip, n)
        copy = _median(lambda: join(clips, here / "copy.mp4", "cut"))
        fade = _median(lambda: join(clips, here / "fade.mp4", "fade"))
        rows = [
            {"case": "make_film, stream copy", "seconds": round(copy, 3), "vs ffmpeg copy": None},
            {"case": "make_film, re-encode (fade)", "seconds": round(fade, 3), "vs ffmpeg copy": None},
        ]
        if ffmpeg:
            (here / "list.txt").write_text("".join(f"file '{clip}'\n" for clip in clips))
            command = [ffmpeg, "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(here / "list.txt")]
            reference = _median(lambda: subprocess.run([*command, "-c", "copy", str(here / "ff.mp4")], check=True))
            rows.append({"case": "ffmpeg -f concat -c copy", "seconds": round(reference, 3), "vs ffmpeg copy": 1.0})
            for row in rows[:2]:
                row["vs ffmpeg copy"] = round(float(str(row["seconds"])) / reference, 2)
        look = _median(lambda: _look(clips[0], 6))
        sheet = _median(lambda: contact_sheet(clips[0], SECONDS, FPS, 6))
        rows.append(
            {"case": f"inspect_video, {SECONDS} s clip, 6 frames", "seconds": round(look, 3), "vs ffmpeg copy": None}
        )
        rows.append({"case": "  of which the contact sheet", "seconds": round(sheet, 3), "vs ffmpeg copy": None})
    return rows


if __name__ == "__main__":
    for row in measure():
        print(row)
