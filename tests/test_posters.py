"""Posters show the video: fades and cuts to black are passed over, and a dark video still shows something."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from mcp.types import CallToolResult, ImageContent
from PIL import Image

from server.settings import Settings
from tests.conftest import add_job, connect, preview_settings, text_of
from tests.fake_fal import FakeFal
from tests.media import frames_of

pytestmark = pytest.mark.anyio

FPS = 24
SIZE = (320, 180)


def scene(index: int) -> np.ndarray:
    """A lit picture with plenty in it: a gradient, stripes, and a bar that moves from frame to frame."""
    x = np.linspace(60, 200, SIZE[0])
    picture = np.repeat(np.tile(x, (SIZE[1], 1))[:, :, None], 3, axis=2)
    picture[::12] = 240
    picture[60:120, (index * 4) % 280 : (index * 4) % 280 + 40] = 20
    return picture


def write_clip(path: Path, seconds: float, light: Callable[[float], float]) -> Path:
    """An H.264 MP4 of `scene` at `light(t)` times its brightness: 0 is black, 1 is the scene as it is."""
    with av.open(str(path), mode="w") as container:
        video = container.add_stream("libx264", rate=FPS, options={"preset": "ultrafast", "crf": "12"})
        video.width, video.height, video.pix_fmt = SIZE[0], SIZE[1], "yuv420p"
        video.codec_context.time_base = Fraction(1, FPS)
        for index in range(round(seconds * FPS)):
            pixels = (scene(index) * light(index / FPS)).clip(0, 255).astype(np.uint8)
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts = index
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
    return path


def poster_of(result: CallToolResult) -> np.ndarray:
    (poster,) = [block for block in result.content if isinstance(block, ImageContent)]
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(poster.data))).convert("L"), dtype=np.float64)


def brightness(video: Path, at: float) -> float:
    """The mean grey level of the frame on screen at `at` seconds, as a poster would be judged."""
    frames = frames_of(video)
    pixels = next(f for t, f in reversed(frames) if t <= at + 1e-3)
    return float(np.asarray(Image.fromarray(pixels).convert("L"), dtype=np.float64).mean())


@pytest.fixture
def local(tmp_path: Path) -> Settings:
    return preview_settings(tmp_path, heartbeat_seconds=Settings().heartbeat_seconds)


async def film(local: Settings, shots: list[Path], transition: str) -> tuple[CallToolResult, Path]:
    for number, shot in enumerate(shots):
        await add_job(local, f"shot-{number}", "completed", {"url": shot.as_uri(), "duration": 3.0})
    async with connect(local) as client:
        result = await client.call_tool(
            "make_film", {"request_ids": [f"shot-{n}" for n in range(len(shots))], "transition": transition}
        )
    assert result.structured_content is not None, text_of(result)
    return result, Path(result.structured_content["saved_path"])


async def test_a_film_that_fades_in_from_black_gets_a_poster_as_bright_as_its_content(local: Settings, tmp_path: Path):
    fading = write_clip(tmp_path / "fade-in.mp4", 3, lambda t: t / 3)  # black to lit over the whole first shot
    lit = write_clip(tmp_path / "lit.mp4", 3, lambda t: 1.0)
    result, video = await film(local, [fading, lit], "cut")
    content = brightness(lit, 1.0)
    assert brightness(video, 2.0) < 0.75 * content  # a third of the way in is still fading
    assert poster_of(result).mean() == pytest.approx(content, abs=4)


async def test_a_poster_is_not_taken_from_the_dip_between_faded_shots(local: Settings, tmp_path: Path):
    shots = [write_clip(tmp_path / f"{n}.mp4", 3, lambda t: 1.0) for n in range(3)]
    result, video = await film(local, shots, "fade")
    assert brightness(video, 3.0) < 12  # a third of the way into the film is the black between two shots
    assert poster_of(result).mean() == pytest.approx(brightness(shots[0], 1.0), abs=4)


async def test_a_job_whose_video_fades_in_gets_a_poster_of_its_content(
    settings: Settings, fake_fal: FakeFal, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    video = write_clip(tmp_path / "host.mp4", 4, lambda t: min(1.0, t / 2))
    monkeypatch.setattr(fake_fal, "video", video.read_bytes())
    async with connect(settings) as client:
        result = await client.call_tool("generate_text_video", {"prompt": "Dawn over the sea"})
    assert not result.is_error, text_of(result)
    assert poster_of(result).mean() == pytest.approx(brightness(video, 3.0), abs=4)


async def test_a_video_dark_throughout_gets_its_most_visible_frame(local: Settings, tmp_path: Path):
    dark = write_clip(tmp_path / "night.mp4", 3, lambda t: 0.1 * t / 3)  # never above a tenth of the scene
    result, _ = await film(local, [dark, dark], "cut")
    last = brightness(dark, 3.0)
    assert 8 < last < 20  # dark enough to count as black throughout, yet something is there
    assert poster_of(result).mean() == pytest.approx(last, abs=2)


async def test_the_contact_sheet_names_black_frames_and_warns_of_a_black_last_frame(local: Settings, tmp_path: Path):
    fade_out = write_clip(tmp_path / "fade-out.mp4", 3, lambda t: max(0.0, 1 - t / 2))
    await add_job(local, "fade-out", "completed", {"url": fade_out.as_uri(), "duration": 3.0})
    async with connect(local) as client:
        result = await client.call_tool("inspect_video", {"request_id": "fade-out", "frames": 4})
    seen = result.structured_content
    assert seen is not None, text_of(result)
    assert [f["blank"] for f in seen["frames"]] == [None, None, "black", "black"]
    assert "Showing nothing: 1.96 s is black; 2.96 s is black." in text_of(result)
    assert "should not start from its last frame" in text_of(result)
