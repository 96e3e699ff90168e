"""Long jobs: the wait budget, get_job, heartbeats, and a restart in the middle of a job."""

from __future__ import annotations

import pytest
from mcp.types import ResourceLink

from server.settings import Settings
from tests.conftest import ProgressLog, connect, read_json, text_of
from tests.fake_fal import FakeFal, Phase

pytestmark = pytest.mark.anyio

HELD_IN_PROGRESS = [Phase("IN_QUEUE", 0.02, queue_position=0), Phase("IN_PROGRESS", None, log="rendering shot 1")]


async def test_a_job_outlasting_the_wait_returns_a_handle_and_get_job_finishes_it(
    settings: Settings, fake_fal: FakeFal
):
    fake_fal.plan = HELD_IN_PROGRESS
    async with connect(settings) as client:
        first = await client.call_tool("generate_text_video", {"prompt": "a long take", "wait_seconds": 0.5})
        assert not first.is_error
        handle = first.structured_content
        assert handle is not None and handle["status"] == "in_progress"
        request_id = handle["request_id"]
        assert f'get_job with request_id="{request_id}"' in text_of(first)
        assert handle["next_step"] and "get_job" in handle["next_step"]
        assert not [block for block in first.content if isinstance(block, ResourceLink)]

        fake_fal.advance(request_id)
        second = await client.call_tool("get_job", {"request_id": request_id})
    assert second.structured_content and second.structured_content["status"] == "completed"
    links = [block.uri for block in second.content if isinstance(block, ResourceLink)]
    assert links[0] == second.structured_content["video"]["url"] and links[1].startswith("file://")
    # One stream served both calls: the wait running out costs no extra queue requests.
    assert [kind for kind, _ in fake_fal.requests] == ["submit", "stream", "result"]


async def test_heartbeats_keep_progress_rising_while_nothing_changes(settings: Settings, fake_fal: FakeFal):
    fake_fal.plan = HELD_IN_PROGRESS
    progress = ProgressLog()
    async with connect(settings) as client:
        await client.call_tool(
            "generate_text_video", {"prompt": "waiting", "wait_seconds": 1.5}, progress_callback=progress
        )
    generating = [m for m in progress.messages if m and m.startswith("generating")]
    assert len(generating) >= 5, progress.messages  # heartbeat_seconds is 0.2 in the test settings
    assert all(m.endswith(": rendering shot 1") for m in generating)
    assert progress.values == sorted(progress.values) and len(set(progress.values)) == len(progress.values)


async def test_get_job_after_a_restart_finds_the_job_in_the_ledger_and_finishes_it(
    settings: Settings, fake_fal: FakeFal
):
    fake_fal.plan = [Phase("IN_QUEUE", None, queue_position=0)]
    async with connect(settings) as client:
        first = await client.call_tool(
            "animate_image", {"prompt": "x", "image_url": "https://e.com/a.png", "wait_seconds": 0}
        )
    assert first.structured_content is not None
    request_id = first.structured_content["request_id"]
    fake_fal.advance(request_id)

    async with connect(settings) as client:  # a new server process reading the same SEEDANCE_HOME
        result = await client.call_tool("get_job", {"request_id": request_id, "wait_seconds": 5})
        record = await read_json(client, f"seedance://jobs/{request_id}")
    assert result.structured_content and result.structured_content["status"] == "completed"
    assert result.structured_content["endpoint"] == "bytedance/seedance-2.0/image-to-video"
    assert record["arguments"]["image_url"] == "https://e.com/a.png"
    assert [e["event"] for e in record["events"]] == ["submitted", "completed"]  # it finished while no server ran


async def test_get_job_with_zero_wait_reports_the_queue_position(settings: Settings, fake_fal: FakeFal):
    fake_fal.plan = [Phase("IN_QUEUE", None, queue_position=3)]
    async with connect(settings) as client:
        first = await client.call_tool("generate_text_video", {"prompt": "queued", "wait_seconds": 0})
        assert first.structured_content is not None
        request_id = first.structured_content["request_id"]
        status = await client.call_tool("get_job", {"request_id": request_id, "wait_seconds": 0.3})
    assert status.structured_content and status.structured_content["status"] == "queued"
    assert status.structured_content["queue_position"] == 3
    assert status.structured_content["progress"] == "queued, position 3"
