"""Earlier jobs as inputs: a shot starts on a frame of one before it, taken locally from the real MP4."""

from __future__ import annotations

import io
import itertools
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from server.settings import Settings
from tests.conftest import add_job, connect, preview_settings, text_of
from tests.fake_fal import FakeFal
from tests.media import file_of, frames_of, mean_difference

pytestmark = pytest.mark.anyio

SHOT = {"resolution": "480p", "duration": "4", "aspect_ratio": "16:9"}


@pytest.fixture
def local(tmp_path: Path) -> Settings:
    return preview_settings(tmp_path)


def frame_file(settings: Settings, request_id: str, label: str) -> Path:
    return settings.frames_dir / f"{request_id}-{label}.png"


@pytest.mark.slow  # renders several 720p previews
async def test_a_frame_reference_is_that_frame_of_the_video_exactly(local: Settings):
    async with connect(local) as client:
        first = await client.call_tool("generate_text_video", {"prompt": "A slow push-in on a harbour", **SHOT})
        assert first.structured_content is not None
        shot = first.structured_content["request_id"]
        video = file_of(first.structured_content["video"]["url"])
        for label in ("last", "first", "2.5"):
            result = await client.call_tool(
                "animate_image",
                {"prompt": "The boats drift", "image_url": f"seedance://jobs/{shot}/frames/{label}", **SHOT},
            )
            assert result.structured_content and result.structured_content["status"] == "completed", text_of(result)
    decoded = frames_of(video)
    expected = {"last": decoded[-1][1], "first": decoded[0][1], "2.5s": next(f for t, f in decoded if t == 2.5)}
    for label, pixels in expected.items():
        taken = np.asarray(Image.open(frame_file(local, shot, label)).convert("RGB"))
        assert np.array_equal(taken, pixels), label  # lossless: the frame itself, not a re-encoded copy


@pytest.mark.slow  # renders several 720p previews
async def test_a_chain_of_preview_shots_starts_each_shot_on_the_previous_last_frame(local: Settings):
    prompts = ["A lighthouse at dusk, slow push-in", "The beam sweeps the sea, pan right", "Rain begins, zoom out"]
    videos: list[Path] = []
    async with connect(local) as client:
        result = await client.call_tool("generate_text_video", {"prompt": prompts[0], **SHOT})
        for prompt in prompts[1:]:
            assert result.structured_content is not None
            previous = result.structured_content
            videos.append(file_of(previous["video"]["url"]))
            image = f"seedance://jobs/{previous['request_id']}/frames/last"
            result = await client.call_tool("animate_image", {"prompt": prompt, "image_url": image, **SHOT})
            assert result.structured_content and result.structured_content["status"] == "completed", text_of(result)
        videos.append(file_of(result.structured_content["video"]["url"]))
    shots = [frames_of(video) for video in videos]
    for before, after in itertools.pairwise(shots):
        join = mean_difference(before[-1][1], after[0][1])
        within = mean_difference(before[0][1], before[-1][1])  # how much one shot moves from start to end
        assert join < 2.0 < within, (join, within)  # the next shot starts where the last one ended
        top = before[-1][1].shape[0] // 2  # above the preview's label, which each shot burns in again
        drift = float(after[0][1][:top].mean()) - float(before[-1][1][:top].mean())
        assert abs(drift) < 0.3, drift  # no darker at each join: a long chain keeps its colours


async def test_a_frame_is_uploaded_to_a_paid_host_like_a_local_file(settings: Settings, fake_fal: FakeFal):
    async with connect(settings) as client:
        first = await client.call_tool("generate_text_video", {"prompt": "A harbour at night", **SHOT})
        assert first.structured_content is not None
        shot = first.structured_content["request_id"]
        image = f"seedance://jobs/{shot}/frames/last"
        second = await client.call_tool("animate_image", {"prompt": "Boats drift", "image_url": image, **SHOT})
        again = await client.call_tool(
            "animate_image", {"prompt": "Boats drift", "image_url": image, **SHOT, "force_new": True}
        )
    assert second.structured_content and second.structured_content["status"] == "completed", text_of(second)
    assert again.structured_content and again.structured_content["status"] == "completed"
    saved = Path(first.structured_content["video"]["saved_path"])
    assert len(fake_fal.uploads) == 1  # the same frame is uploaded once and reused
    _, content_type, data = fake_fal.uploads[0]
    assert content_type == "image/png"
    uploaded = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    assert np.array_equal(uploaded, frames_of(saved)[-1][1])
    submitted = [job.input for job in fake_fal.jobs.values() if "image-to-video" in job.endpoint]
    assert len(submitted) == 2 and all(body["image_url"].startswith(f"{fake_fal.url}/cdn/") for body in submitted)


REFUSED = [
    ("image_url", "seedance://jobs/nobody/frames/last", "no job 'nobody'"),
    ("image_url", "seedance://jobs/running/frames/last", "has not finished yet (status in_progress)"),
    ("image_url", "seedance://jobs/broken/frames/last", "job broken failed and made no video"),
    ("image_url", "seedance://jobs/stopped/frames/first", "job stopped cancelled and made no video"),
    ("image_url", "seedance://jobs/done/frames/9.5", "lasts 4 s, so it has no frame at 9.5 s"),
    ("image_url", "seedance://jobs/done", "is a whole video, and image_url takes an image"),
    ("end_image_url", "seedance://jobs/done/frames/middle", "not a job reference this server knows"),
    ("image_url", "seedance://films/x", "not a job reference this server knows"),
]


@pytest.mark.parametrize(("field", "value", "problem"), REFUSED, ids=[r[1].split("//")[1] for r in REFUSED])
async def test_an_unusable_job_reference_is_refused_before_anything_is_sent(
    settings: Settings, fake_fal: FakeFal, field: str, value: str, problem: str
):
    await add_job(settings, "running", "in_progress")
    await add_job(settings, "broken", "failed")
    await add_job(settings, "stopped", "cancelled")
    await add_job(settings, "done", "completed", {"url": "https://cdn.example/done.mp4", "duration": 4.0})
    arguments = {"prompt": "Next shot", "image_url": "https://example.com/a.png", field: value}
    async with connect(settings) as client:
        result = await client.call_tool("animate_image", arguments)
    text = text_of(result)
    assert result.is_error and f"`{field}`" in text and problem in text and "Fix:" in text, text
    assert "nothing was submitted or charged" in text
    assert fake_fal.requests == [] and fake_fal.uploads == []


async def test_references_in_the_wrong_slot_name_what_the_slot_takes(settings: Settings, fake_fal: FakeFal):
    await add_job(settings, "done", "completed", {"url": "https://cdn.example/done.mp4", "duration": 4.0})
    arguments = {
        "prompt": "@Image1 dances like @Video1",
        "image_urls": ["seedance://jobs/done/frames/last"],
        "video_urls": ["seedance://jobs/done/frames/last"],
        "audio_urls": ["seedance://jobs/done"],
    }
    async with connect(settings) as client:
        result = await client.call_tool("reference_video", arguments)
    text = text_of(result)
    assert result.is_error, text
    assert "`video_urls[0]`" in text and "pass the job's video: seedance://jobs/done" in text
    assert "`audio_urls[0]`" in text and "audio slots take sound files only" in text
    assert "image_urls" not in text.split("Fix the fields")[0].replace("image_urls/", "")  # a frame is an image
    assert fake_fal.requests == []


async def test_a_job_whose_video_is_gone_is_refused_with_what_to_do(settings: Settings, fake_fal: FakeFal):
    await add_job(settings, "gone", "completed", {"url": f"{fake_fal.url}/cdn/expired.mp4", "duration": 4.0})
    async with connect(settings) as client:
        result = await client.call_tool(
            "animate_image", {"prompt": "Next", "image_url": "seedance://jobs/gone/frames/last"}
        )
    text = text_of(result)
    assert result.is_error and "`image_url`" in text and "could not be downloaded" in text, text
    assert fake_fal.count("submit") == 0 and fake_fal.uploads == []


async def test_a_time_past_the_end_is_refused_when_only_the_file_knows_the_length(
    settings: Settings, fake_fal: FakeFal, clip: bytes, tmp_path: Path
):
    video = tmp_path / "made.mp4"
    video.write_bytes(clip)
    await add_job(settings, "unmeasured", "completed", {"url": video.as_uri()})  # no duration in the ledger
    async with connect(settings) as client:
        late = await client.call_tool(
            "animate_image", {"prompt": "Next", "image_url": "seedance://jobs/unmeasured/frames/9.5"}
        )
    text = text_of(late)
    assert late.is_error and "`image_url`" in text and "lasts 4 s, so it has no frame at 9.5 s" in text, text
    assert fake_fal.count("submit") == 0 and fake_fal.uploads == []
