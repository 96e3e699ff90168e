"""make_film and inspect_video on real MP4s: lengths, sound, stream copy, letterboxing, contact sheets."""

from __future__ import annotations

import base64
import io
import json
import math
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from mcp import Client
from mcp.types import BlobResourceContents, ImageContent, ResourceLink
from PIL import Image

from server.settings import Settings
from tests.conftest import add_job, connect, preview_settings, text_of
from tests.media import file_of, frames_of, mean_difference, sound_of, video_packets

pytestmark = [pytest.mark.anyio, pytest.mark.slow]  # films are real encodes and joins

FRAME = 1 / 24
SHOT = {"resolution": "480p", "aspect_ratio": "16:9"}
PROMPTS = ["A harbour at dawn, slow push-in", "Gulls over the water, pan right", "The ferry leaves, zoom out"]


@pytest.fixture
def local(tmp_path: Path) -> Settings:
    return preview_settings(tmp_path)


async def shot(client: Client, prompt: str, **options: Any) -> dict[str, Any]:
    result = await client.call_tool("generate_text_video", {"prompt": prompt, **SHOT, **options})
    job = result.structured_content
    assert job is not None and job["status"] == "completed", text_of(result)
    return dict(job)


def video_seconds(path: Path) -> float:
    frames = frames_of(path)
    return frames[-1][0] + FRAME - frames[0][0]


async def test_a_film_lasts_its_shots_with_sound_throughout_saved_with_its_sidecar(local: Settings):
    async with connect(local) as client:
        shots = [await shot(client, prompt, duration=seconds) for prompt, seconds in zip(PROMPTS, "454", strict=True)]
        ids = [s["request_id"] for s in shots]
        result = await client.call_tool("make_film", {"request_ids": ids, "title": "Harbour"})
        film = result.structured_content
        assert film is not None and not result.is_error, text_of(result)
        blob = (await client.read_resource(film["film_uri"])).contents[0]
    path = Path(film["saved_path"])
    assert path.parent == local.previews_dir and path.is_file()  # previews, and so is a film of them alone
    assert film["film_uri"] == f"seedance://films/{film['film_id']}"
    assert isinstance(blob, BlobResourceContents) and base64.b64decode(blob.blob) == path.read_bytes()
    sizes = [video_seconds(file_of(s["video"]["url"])) for s in shots]
    assert abs(video_seconds(path) - sum(sizes)) <= FRAME * len(shots) and film["duration"] == pytest.approx(13)
    heard = sound_of(path).shape[1] / 48_000
    assert heard >= sum(sizes) - FRAME  # the sound runs the whole film
    sidecar = json.loads(path.with_suffix(".json").read_text())
    assert [s["request_id"] for s in sidecar["shots"]] == ids
    assert [s["prompt"] for s in sidecar["shots"]] == PROMPTS
    assert all(s["host"] == "local" and s["seed"] is not None for s in sidecar["shots"])
    assert sidecar["total_cost_usd"] == {"min": 0, "max": 0}  # previews are free
    links = [b for b in result.content if isinstance(b, ResourceLink)]
    assert [link.uri for link in links] == [film["film_uri"], path.as_uri()]
    assert any(isinstance(b, ImageContent) for b in result.content)  # the poster


async def test_shots_that_share_their_codec_are_joined_by_stream_copy(local: Settings):
    async with connect(local) as client:
        shots = [await shot(client, f"Shot {n}, slow push-in", duration="4") for n in range(3)]
        result = await client.call_tool("make_film", {"request_ids": [s["request_id"] for s in shots]})
    film = result.structured_content
    assert film is not None and film["method"] == "stream copy" and film["sound"] == "copied", text_of(result)
    inputs = [packet for s in shots for packet in video_packets(file_of(s["video"]["url"]))]
    assert video_packets(Path(film["saved_path"])) == inputs  # byte for byte: nothing was re-encoded


async def test_mixed_sizes_are_re_encoded_to_the_first_letterboxed_never_stretched(local: Settings):
    async with connect(local) as client:
        wide = await shot(client, "A wide landscape", duration="4")
        tall = await shot(client, "A tall tower", duration="4", aspect_ratio="9:16")
        result = await client.call_tool("make_film", {"request_ids": [wide["request_id"], tall["request_id"]]})
    film = result.structured_content
    assert film is not None and film["method"] == "re-encode", text_of(result)
    width, height = film["width"], film["height"]
    assert (width, height) == (wide["video"]["width"], wide["video"]["height"])
    frames = frames_of(Path(film["saved_path"]))
    assert len(frames) == 2 * 4 * 24
    picture = frames[4 * 24 + 24][1]  # a second into the tall shot
    inner = round(height * tall["video"]["width"] / tall["video"]["height"])  # its width when fitted, unstretched
    bar = (width - inner) // 2
    assert picture[:, : bar - 4].max() < 24 and picture[:, width - bar + 4 :].max() < 24  # black bars
    assert picture[:, bar + 4 : width - bar - 4].mean() > 40  # the picture between them


async def test_fades_dip_to_black_at_each_join_and_keep_the_length(local: Settings):
    async with connect(local) as client:
        shots = [await shot(client, f"Shot {n}", duration="4") for n in range(2)]
        result = await client.call_tool(
            "make_film", {"request_ids": [s["request_id"] for s in shots], "transition": "fade"}
        )
    film = result.structured_content
    assert film is not None and film["method"] == "re-encode" and film["transition"] == "fade", text_of(result)
    frames = frames_of(Path(film["saved_path"]))
    assert len(frames) == 8 * 24
    assert frames[4 * 24][1].mean() < 12 and frames[4 * 24 - 1][1].mean() < 12  # black at the join
    assert frames[2 * 24][1].mean() > 40 and frames[6 * 24][1].mean() > 40


async def test_a_silent_shot_is_silence_in_a_film_whose_sound_never_stops(local: Settings):
    async with connect(local) as client:
        loud = await shot(client, "Surf", duration="4")
        quiet = await shot(client, "Snow", duration="4", generate_audio=False)
        result = await client.call_tool("make_film", {"request_ids": [loud["request_id"], quiet["request_id"]]})
    film = result.structured_content
    assert film is not None and film["method"] == "stream copy" and film["sound"] == "re-encoded", text_of(result)
    sound = sound_of(Path(film["saved_path"]))
    assert sound.shape[1] >= 8 * 48_000 - 1024
    assert np.sqrt(np.mean(sound[:, : 4 * 48_000] ** 2)) > 0.01
    assert np.abs(sound[:, 4 * 48_000 + 2048 :]).max() < 1e-3


async def test_the_same_film_asked_twice_is_made_once_and_known_after_a_restart(local: Settings):
    async with connect(local) as client:
        ids = [(await shot(client, f"Shot {n}", duration="4"))["request_id"] for n in range(2)]
        first = await client.call_tool("make_film", {"request_ids": ids})
        assert first.structured_content is not None
        path = Path(first.structured_content["saved_path"])
        made = path.stat().st_mtime_ns
        again = await client.call_tool("make_film", {"request_ids": ids})
    async with connect(local) as client:
        listed = await client.call_tool("list_films", {})
    assert again.structured_content == first.structured_content and path.stat().st_mtime_ns == made
    assert listed.structured_content is not None
    assert [f["film_id"] for f in listed.structured_content["films"]] == [first.structured_content["film_id"]]


async def test_make_film_refuses_shots_it_cannot_join_naming_each(local: Settings):
    await add_job(local, "running", "in_progress")
    await add_job(local, "broken", "failed")
    async with connect(local) as client:
        good = (await shot(client, "Fine", duration="4"))["request_id"]
        result = await client.call_tool("make_film", {"request_ids": [good, "nobody", "running", "broken"]})
        one = await client.call_tool("make_film", {"request_ids": [good]})
    text = text_of(result)
    assert result.is_error and "nothing was submitted or charged" in text
    assert "`request_ids[1]`: no job 'nobody'" in text
    assert "`request_ids[2]`: job running has not finished yet" in text
    assert "`request_ids[3]`: job broken failed and made no video" in text
    assert one.is_error and "`request_ids`" in text_of(one) and "Fix:" in text_of(one)
    assert not list(local.films_dir.glob("*film*")) and not list(local.previews_dir.glob("*film*"))


# -- inspect_video ----------------------------------------------------------------------------------

TONE = 0.5  # a sine at half scale: RMS 0.354, -9.0 dBFS


def moving_square(path: Path, seconds: int = 3, fps: int = 24, size: tuple[int, int] = (640, 360)) -> None:
    """An MP4 whose every frame is told apart by where a white square is, with a steady tone."""
    with av.open(str(path), mode="w") as container:
        video = container.add_stream("libx264", rate=fps, options={"preset": "ultrafast", "crf": "12"})
        video.width, video.height, video.pix_fmt = size[0], size[1], "yuv420p"
        sound = container.add_stream("aac", rate=48_000, layout="mono")
        sound.codec_context.open()
        video.codec_context.time_base = Fraction(1, fps)
        total = seconds * fps
        for index in range(total):
            picture = np.zeros((size[1], size[0], 3), dtype=np.uint8)
            x = int((size[0] - 60) * index / (total - 1))
            picture[150:210, x : x + 60] = 255
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = index
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        t = np.arange(seconds * 48_000) / 48_000
        tone = (TONE * np.sin(2 * math.pi * 440 * t)).astype(np.float32)
        for start in range(0, tone.size, 1024):
            chunk = av.AudioFrame.from_ndarray(tone[None, start : start + 1024], format="flt", layout="mono")
            chunk.sample_rate, chunk.pts = 48_000, start
            container.mux(sound.encode(chunk))
        container.mux(sound.encode(None))


async def test_the_contact_sheet_shows_the_frames_at_its_stated_times(local: Settings, tmp_path: Path):
    video = tmp_path / "square.mp4"
    moving_square(video)
    await add_job(local, "square", "completed", {"url": video.as_uri(), "duration": 3.0})
    async with connect(local) as client:
        result = await client.call_tool("inspect_video", {"request_id": "square", "frames": 6})
        twelve = await client.call_tool("inspect_video", {"request_id": "square", "frames": 12})
        refused = [await client.call_tool("inspect_video", {"request_id": "square", "frames": n}) for n in (1, 13)] + [
            await client.call_tool("inspect_video", {"request_id": "nobody"})
        ]
    seen = result.structured_content
    assert seen is not None and not result.is_error, text_of(result)
    facts = seen["facts"]
    assert facts["duration"] == pytest.approx(3.0) and facts["fps"] == 24 and facts["frames"] == 72
    assert (facts["width"], facts["height"], facts["video_codec"]) == (640, 360, "h264")
    assert facts["has_audio"] and facts["audio_codec"] == "aac"
    assert facts["loudness_dbfs"] == pytest.approx(-9.0, abs=0.5)
    times = [f["time"] for f in seen["frames"]]
    assert times[0] == 0 and times[-1] == pytest.approx(3 - FRAME, abs=1e-3) and len(times) == 6
    image = next(b for b in result.content if isinstance(b, ImageContent))
    data = base64.b64decode(image.data)
    sheet = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    assert len(data) <= 250 * 1024 and max(sheet.shape[:2]) <= 1568
    decoded = frames_of(video)
    width, height, columns = seen["tile_width"], seen["tile_height"], seen["columns"]

    def tile(index: int) -> np.ndarray:
        row, column = divmod(index, columns)
        top, left = row * (height + 4), column * (width + 4)
        return sheet[top + height // 3 : top + height, left : left + width]  # below the time stamp

    def at(seconds: float) -> np.ndarray:
        pixels = next(f for t, f in decoded if abs(t - seconds) < 1e-3)
        small = np.asarray(Image.fromarray(pixels).resize((width, height), Image.Resampling.BILINEAR))
        return small[height // 3 :]

    for index, seconds in enumerate(times):
        here = mean_difference(tile(index), at(seconds))
        elsewhere = min(mean_difference(tile(index), at(other)) for other in times if other != seconds)
        assert here < 6 < elsewhere, (seconds, here, elsewhere)
    assert twelve.structured_content is not None and len(twelve.structured_content["frames"]) == 12
    assert all(r.is_error for r in refused)
    assert "`frames`" in text_of(refused[0]) and "from 2 to 12" in text_of(refused[0])
    assert "no job 'nobody'" in text_of(refused[2])


async def test_inspect_video_reads_films_too(local: Settings):
    async with connect(local) as client:
        ids = [(await shot(client, f"Shot {n}", duration="4"))["request_id"] for n in range(2)]
        film = await client.call_tool("make_film", {"request_ids": ids})
        assert film.structured_content is not None
        result = await client.call_tool("inspect_video", {"request_id": film.structured_content["film_id"]})
    assert result.structured_content is not None, text_of(result)
    assert result.structured_content["facts"]["duration"] == pytest.approx(8.0)
    assert any(isinstance(b, ImageContent) for b in result.content)
