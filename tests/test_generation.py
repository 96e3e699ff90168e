"""A generation call against the fake queue, as a model and a person would see it."""

from __future__ import annotations

import pytest
from mcp.types import ResourceLink

from server.settings import Settings
from tests.conftest import CANARY_KEY, ProgressLog, connect
from tests.fake_fal import FakeFal, Phase, quick_plan

pytestmark = pytest.mark.anyio


class FinishOnceGenerating(ProgressLog):
    """Ends the job's last phase once the client has been told of it: a phase that ended on the fake's clock
    could pass, on a busy machine, before the server's stream looked."""

    def __init__(self, fake: FakeFal) -> None:
        super().__init__()
        self.fake = fake

    async def __call__(self, progress: float, total: float | None, message: str | None) -> None:
        await super().__call__(progress, total, message)
        if message and "generating frames" in message and not self.fake.only_job().done:
            self.fake.advance(self.fake.only_job().request_id)


async def test_text_video_streams_progress_and_ends_with_a_link_to_the_video(settings: Settings, fake_fal: FakeFal):
    fake_fal.plan = [*quick_plan()[:-1], Phase("IN_PROGRESS", None, log="generating frames")]
    progress = FinishOnceGenerating(fake_fal)
    async with connect(settings) as client:
        result = await client.call_tool(
            "generate_text_video",
            {"prompt": "An octopus plays football", "duration": "5", "aspect_ratio": "16:9"},
            progress_callback=progress,
        )
    assert not result.is_error, result.content
    job = result.structured_content
    assert job is not None
    assert job["status"] == "completed"
    assert job["video"]["url"].endswith("/output.mp4")
    assert job["estimated_cost_usd"] == {"min": 0.562464, "max": 0.562464}  # the fake's 864x496, 4 s clip at 720p
    links = [block for block in result.content if isinstance(block, ResourceLink)]
    size = len(fake_fal.video)
    assert (links[0].uri, links[0].mime_type, links[0].size) == (job["video"]["url"], "video/mp4", size)

    values, messages = progress.values, progress.messages
    assert values == sorted(values) and len(set(values)) == len(values), "progress must rise"
    assert any(m and m.startswith("queued, position 1") for m in messages)
    assert any(m and m.startswith("generating") and "generating frames" in m for m in messages)
    assert messages[-1] == "done" and values[-1] == 100

    fal_job = fake_fal.only_job()
    assert fal_job.endpoint == "bytedance/seedance-2.0/text-to-video"
    assert fal_job.input == {
        "prompt": "An octopus plays football",
        "resolution": "720p",
        "duration": "5",
        "aspect_ratio": "16:9",
        "generate_audio": True,
    }


async def test_a_job_costs_three_queue_requests_when_the_stream_works(settings: Settings, fake_fal: FakeFal):
    async with connect(settings) as client:
        result = await client.call_tool("generate_text_video", {"prompt": "a lighthouse at dusk"})
    assert result.structured_content and result.structured_content["status"] == "completed"
    assert fake_fal.requests and [kind for kind, _ in fake_fal.requests] == ["submit", "stream", "result"]


async def test_the_key_never_reaches_the_result_or_the_ledger(settings: Settings, fake_fal: FakeFal):
    async with connect(settings) as client:
        result = await client.call_tool("generate_text_video", {"prompt": "a secret"})
        jobs = await client.read_resource("seedance://jobs")
    assert CANARY_KEY not in result.model_dump_json() and CANARY_KEY not in jobs.model_dump_json()
    for path in settings.home.rglob("*"):  # the database, its WAL, the poster
        assert not path.is_file() or CANARY_KEY.encode() not in path.read_bytes(), path


async def test_fast_model_uses_the_fast_endpoint_and_status_urls_under_the_app(settings: Settings, fake_fal: FakeFal):
    async with connect(settings) as client:
        result = await client.call_tool(
            "generate_text_video", {"prompt": "rain on a window", "model": "seedance-2.0-fast"}
        )
    assert (
        result.structured_content
        and result.structured_content["endpoint"] == "bytedance/seedance-2.0/fast/text-to-video"
    )
    paths = [path for _, path in fake_fal.requests]
    assert paths[0] == "/bytedance/seedance-2.0/fast/text-to-video"
    assert all(path.startswith("/bytedance/seedance-2.0/requests/") for path in paths[1:])


async def test_animate_image_sends_start_and_end_frames(settings: Settings, fake_fal: FakeFal):
    args = {
        "prompt": "slow push-in",
        "image_url": "https://example.com/a.jpg",
        "end_image_url": "https://example.com/b.png",
    }
    async with connect(settings) as client:
        result = await client.call_tool("animate_image", args)
    assert result.structured_content and result.structured_content["seed"] == 1094575694  # fal's answer
    fal_job = fake_fal.only_job()
    assert "seed" not in fal_job.input  # fal's 2.0 inputs have none
    assert fal_job.endpoint == "bytedance/seedance-2.0/image-to-video"
    assert fal_job.input["image_url"] == "https://example.com/a.jpg"
    assert fal_job.input["end_image_url"] == "https://example.com/b.png"


async def test_reference_video_sends_lists_and_prices_the_reference_clips(settings: Settings, fake_fal: FakeFal):
    args = {
        "prompt": "The dancer from @Image1 repeats the moves of @Video1 to @Audio1",
        "image_urls": ["https://example.com/dancer.png"],
        "video_urls": ["https://example.com/moves.mp4"],
        "audio_urls": ["https://example.com/beat.mp3"],
        "duration": "10",
        "aspect_ratio": "16:9",
    }
    async with connect(settings) as client:
        result = await client.call_tool("reference_video", args)
    job = result.structured_content
    assert job and job["status"] == "completed"
    # 10 s out plus 2-15 s of reference video, at 0.6 x $0.014 per 1000 tokens of 21,600 per second
    assert job["estimated_cost_usd"] == {"min": 2.17728, "max": 4.5360}
    fal_job = fake_fal.only_job()
    assert fal_job.endpoint == "bytedance/seedance-2.0/reference-to-video"
    assert fal_job.input["video_urls"] == ["https://example.com/moves.mp4"]
    assert "end_image_url" not in fal_job.input
