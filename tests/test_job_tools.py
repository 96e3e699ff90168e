"""list_jobs and cancel_job."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from server.settings import Settings
from tests.conftest import HANG_SECONDS, connect, read_json, text_of
from tests.fake_fal import FakeFal, Phase

pytestmark = pytest.mark.anyio


async def test_list_jobs_shows_the_ledger_newest_first_and_filters_by_status(settings: Settings, fake_fal: FakeFal):
    async with connect(settings) as client:
        await client.call_tool("generate_text_video", {"prompt": "first"})
        fake_fal.plan = [Phase("IN_QUEUE", None, queue_position=1)]
        await client.call_tool("generate_text_video", {"prompt": "second", "wait_seconds": 0})
        everything = await client.call_tool("list_jobs", {})
        queued = await client.call_tool("list_jobs", {"status": "queued"})
    assert everything.structured_content and queued.structured_content
    assert [job["status"] for job in everything.structured_content["jobs"]] == ["queued", "completed"]
    assert queued.structured_content["count"] == 1
    assert "completed" in text_of(everything) and "/output.mp4" in text_of(everything)


async def test_cancel_job_cancels_a_queued_job_at_fal(settings: Settings, fake_fal: FakeFal):
    fake_fal.plan = [Phase("IN_QUEUE", None, queue_position=3)]
    async with connect(settings) as client:
        started = await client.call_tool("generate_text_video", {"prompt": "stop me", "wait_seconds": 0})
        assert started.structured_content is not None
        request_id = started.structured_content["request_id"]
        cancelled = await client.call_tool("cancel_job", {"request_id": request_id})
        again = await client.call_tool("cancel_job", {"request_id": request_id})
        unknown = await client.call_tool("cancel_job", {"request_id": "nope"})
        record = await read_json(client, f"seedance://jobs/{request_id}")
    assert cancelled.structured_content and cancelled.structured_content["status"] == "cancelled"
    assert "nothing is billed" in text_of(cancelled) and fake_fal.only_job().cancelled
    assert "already cancelled" in text_of(again) and not again.is_error
    assert unknown.is_error and "seedance://jobs" in text_of(unknown)
    assert "cancelled with cancel_job" in " ".join(str(e["detail"]) for e in record["events"])


async def test_cancel_job_stops_a_preview_while_it_renders(tmp_path: Path):
    local = Settings(provider="local", home=tmp_path / "home", heartbeat_seconds=0.2)
    args = {"prompt": "a long render", "resolution": "720p", "duration": "15", "wait_seconds": 0}
    async with connect(local) as client:
        started = await client.call_tool("generate_text_video", args)
        assert started.structured_content is not None
        request_id = started.structured_content["request_id"]
        with anyio.fail_after(HANG_SECONDS):
            while (await read_json(client, f"seedance://jobs/{request_id}"))["status"] != "in_progress":
                await anyio.sleep(0.05)
        cancelled = await client.call_tool("cancel_job", {"request_id": request_id})
    assert cancelled.structured_content and cancelled.structured_content["status"] == "cancelled", text_of(cancelled)
    assert "Cancelled while generating" in text_of(cancelled)
    assert not list((tmp_path / "home" / "previews").glob(f"{request_id}*"))
