"""The offline preview backend: real MP4s, read back and checked, through the same tools as fal."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from mcp.types import BlobResourceContents, ResourceLink

from server.settings import Settings
from tests.conftest import ProgressLog, connect, preview_settings, read_json, text_of
from tests.fake_fal import FakeFal
from tests.media import data_uri, difference, file_of, picture, probe

pytestmark = pytest.mark.anyio

ONE_FRAME = 1 / 24
RED = picture((600, 800), (200, 40, 40), (250, 220, 30))  # portrait 3:4
BLUE = picture((600, 800), (30, 60, 200), (20, 220, 120))


@pytest.fixture
def local(tmp_path: Path) -> Settings:
    return preview_settings(tmp_path, output_dir=Settings().output_dir, heartbeat_seconds=0.5)


async def test_a_text_preview_is_a_labelled_free_mp4_with_sound(local: Settings):
    progress = ProgressLog()
    args = {"prompt": "A lighthouse in a storm", "resolution": "480p", "duration": "4", "aspect_ratio": "16:9"}
    async with connect(local) as client:
        result = await client.call_tool("generate_text_video", args, progress_callback=progress)
    job = result.structured_content
    assert job is not None and job["status"] == "completed", text_of(result)
    assert job["provider"] == "local" and job["preview"] is True
    assert job["estimated_cost_usd"] == {"min": 0, "max": 0}
    assert job["list_price_usd"] == {"min": 0.562464, "max": 0.562464}
    text = text_of(result)
    assert "offline preview" in text and "not Seedance output" in text and "$0.56" in text
    (link,) = [block for block in result.content if isinstance(block, ResourceLink)]
    assert link.uri.startswith("file://") and link.mime_type == "video/mp4"

    video = probe(file_of(link.uri))
    assert video.codecs == {"video": "h264", "audio": "aac"}
    assert (video.width, video.height, video.fps, video.frames) == (864, 496, 24.0, 96)
    assert abs(video.duration - 4) <= ONE_FRAME
    assert link.size == file_of(link.uri).stat().st_size
    assert any(m and "rendered 2 s of 4 s" in m for m in progress.messages)
    assert progress.messages[-1] == "done"


async def test_preview_progress_follows_the_frames_rendered(local: Settings):
    """The renderer knows how far it is: the percentage says that, rather than a guess that jumps at the end."""
    progress = ProgressLog()
    args = {"prompt": "A slow pan over a city", "resolution": "480p", "duration": "5", "generate_audio": False}
    async with connect(local) as client:
        result = await client.call_tool("generate_text_video", args, progress_callback=progress)
    assert not result.is_error, text_of(result)
    assert progress.values == sorted(progress.values) and progress.values[-1] == 100
    seen = 0
    for value, message in zip(progress.values, progress.messages, strict=True):
        if message and (said := re.search(r"rendered (\d) s of 5 s", message)):
            done = int(said.group(1))
            assert 10 + 89 * done / 5 <= value <= 10 + 89 * (done + 1) / 5 + 1, (value, message)
            seen += 1
    assert seen >= 1


async def test_without_generate_audio_the_preview_has_no_audio_track(local: Settings):
    args = {"prompt": "silent film", "resolution": "480p", "duration": "4", "generate_audio": False}
    async with connect(local) as client:
        result = await client.call_tool("generate_text_video", args)
    assert result.structured_content is not None
    video = probe(file_of(result.structured_content["video"]["url"]))
    assert video.codecs == {"video": "h264"}
    assert (video.width, video.height) == (864, 496)  # "auto" aspect ratio without an image is 16:9


async def test_an_animated_image_starts_on_the_image_and_arrives_on_the_end_image(local: Settings, tmp_path: Path):
    start = tmp_path / "start.png"
    start.write_bytes(RED)
    local = dataclasses.replace(local, allowed_dirs=(tmp_path,))
    args = {
        "prompt": "the camera pans right across the scene",
        "image_url": str(start),
        "end_image_url": data_uri(BLUE),
        "resolution": "480p",
        "duration": "4",
    }
    async with connect(local) as client:
        result = await client.call_tool("animate_image", args)
    assert result.structured_content is not None, text_of(result)
    video = probe(file_of(result.structured_content["video"]["url"]))
    assert (video.width, video.height) == (560, 752)  # "auto" follows the 3:4 start image
    assert abs(video.duration - 4) <= ONE_FRAME
    assert difference(video.first, RED) < 12 < difference(video.first, BLUE)
    assert difference(video.last, BLUE) < 12 < difference(video.last, RED)


async def test_a_reference_preview_moves_through_the_images(local: Settings):
    args = {
        "prompt": "@Image1 meets @Image2",
        "image_urls": [data_uri(RED), data_uri(BLUE)],
        "resolution": "480p",
        "aspect_ratio": "3:4",
        "generate_audio": False,
    }
    async with connect(local) as client:
        result = await client.call_tool("reference_video", args)
    assert result.structured_content is not None, text_of(result)
    video = probe(file_of(result.structured_content["video"]["url"]))
    assert abs(video.duration - 4) <= ONE_FRAME  # "auto" duration: 4 s for a short prompt
    assert difference(video.first, RED) < 12 < difference(video.last, RED)
    assert difference(video.last, BLUE) < 25


async def test_the_video_resource_serves_the_file_and_get_job_finds_it_after_a_restart(local: Settings):
    args = {"prompt": "a short clip", "resolution": "480p", "duration": "4", "generate_audio": False}
    async with connect(local) as client:
        result = await client.call_tool("generate_text_video", args)
    assert result.structured_content is not None
    request_id = result.structured_content["request_id"]
    path = file_of(result.structured_content["video"]["url"])
    async with connect(local) as client:  # a new server reading the same SEEDANCE_HOME
        again = await client.call_tool("get_job", {"request_id": request_id})
        blob = (await client.read_resource(f"seedance://jobs/{request_id}/video")).contents[0]
        record = await read_json(client, f"seedance://jobs/{request_id}")
    assert again.structured_content and again.structured_content["status"] == "completed"
    assert isinstance(blob, BlobResourceContents) and blob.mime_type == "video/mp4"
    import base64

    assert base64.b64decode(blob.blob) == path.read_bytes()
    assert path.parent == local.home / "previews"
    assert record["preview"] is True and record["provider"] == "local"


async def test_an_input_that_is_not_an_image_is_refused_before_a_job_exists(local: Settings, tmp_path: Path):
    notes = tmp_path / "notes.png"
    notes.write_text("not an image at all")
    local = dataclasses.replace(local, allowed_dirs=(tmp_path,))
    async with connect(local) as client:
        as_file = await client.call_tool("animate_image", {"prompt": "x", "image_url": str(notes)})
        as_data = await client.call_tool("animate_image", {"prompt": "x", "image_url": data_uri(notes.read_bytes())})
        jobs = await read_json(client, "seedance://jobs")
    assert "`image_url`: notes.png is not a format the API takes" in text_of(as_file)
    assert "`image_url`: the data: URI's bytes are not a format the API takes" in text_of(as_data)
    assert jobs == []


async def test_the_provider_defaults_to_fal_with_a_key_and_local_without():
    assert Settings.from_env({}).provider == "local"
    assert Settings.from_env({"FAL_KEY": "k"}).provider == "fal"
    assert Settings.from_env({"FAL_KEY": "k", "SEEDANCE_PROVIDER": "local"}).provider == "local"
    with pytest.raises(SystemExit, match="SEEDANCE_PROVIDER"):
        Settings.from_env({"SEEDANCE_PROVIDER": "runway"})


async def test_a_fal_job_stays_followable_when_the_server_switches_to_local(settings: Settings, fake_fal: FakeFal):
    from tests.fake_fal import Phase

    fake_fal.plan = [Phase("IN_QUEUE", None, queue_position=0)]
    async with connect(settings) as client:
        first = await client.call_tool("generate_text_video", {"prompt": "paid", "wait_seconds": 0})
    assert first.structured_content is not None
    fake_fal.advance(first.structured_content["request_id"])
    async with connect(dataclasses.replace(settings, provider="local")) as client:
        later = await client.call_tool("get_job", {"request_id": first.structured_content["request_id"]})
    assert later.structured_content and later.structured_content["status"] == "completed"
    assert later.structured_content["preview"] is False


def test_starting_the_server_does_not_load_the_renderer(tmp_path: Path):
    """PyAV, NumPy and Pillow load on the first render, so they never slow the server's start."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from server.app import build_server\n"
        "from pathlib import Path\n"
        "from server.settings import Settings\n"
        f"build_server(Settings(home=Path({str(tmp_path)!r})))\n"
        "print(sorted(m for m in ('av', 'numpy', 'PIL') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
