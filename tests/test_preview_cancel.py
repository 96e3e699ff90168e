"""Cancelling a preview really stops it: a queued one never renders, a rendering one stops between frames."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest

from server.errors import JobCancelled
from server.providers.local import LocalPreview
from server.settings import Settings
from server.trust.guard import Guard
from server.trust.network import CallerHttp
from tests.conftest import HANG_SECONDS, connect, read_json

pytestmark = pytest.mark.anyio

LONG = {"prompt": "a long take", "resolution": "480p", "duration": "15", "generate_audio": False}


async def test_cancelling_a_call_whose_preview_waits_in_the_queue_cancels_it(tmp_path: Path):
    settings = Settings(provider="local", home=tmp_path / "home", heartbeat_seconds=0.2)
    async with connect(settings) as client:
        first = await client.call_tool("generate_text_video", {**LONG, "wait_seconds": 0})
        assert first.structured_content is not None

        async def second_queued() -> dict[str, Any] | None:
            jobs = await read_json(client, "seedance://jobs")
            others = [job for job in jobs if job["request_id"] != first.structured_content["request_id"]]
            return others[0] if others and others[0]["status"] == "queued" else None

        async with anyio.create_task_group() as calls:  # the second waits behind the first, in the one slot
            calls.start_soon(lambda: client.call_tool("generate_text_video", {**LONG, "prompt": "never rendered"}))
            with anyio.fail_after(HANG_SECONDS):
                while (second := await second_queued()) is None:
                    await anyio.sleep(0.05)
            calls.cancel_scope.cancel()  # the person presses stop while it is queued
        assert second is not None
        with anyio.fail_after(HANG_SECONDS):
            while (await read_json(client, second["job_uri"]))["status"] != "cancelled":
                await anyio.sleep(0.05)
    assert not list((settings.home / "previews").glob(f"{second['request_id']}*"))


async def test_cancelling_a_preview_while_it_renders_stops_the_render(tmp_path: Path):
    async with anyio.create_task_group() as tg:
        provider = LocalPreview(tmp_path, CallerHttp(Guard()), tg)
        args = {**LONG, "duration": "15", "aspect_ratio": "16:9"}
        submission = await provider.submit("text-to-video", "seedance-2.0", args)
        with anyio.fail_after(HANG_SECONDS):
            async for update in provider.follow(submission.handle):
                if any(line.startswith("rendered 1 s") for line in update.logs):
                    assert await provider.cancel(submission.handle) == "stopping"
                if update.state == "completed":
                    break
        with pytest.raises(JobCancelled):
            await provider.result(submission.handle)
    assert list(tmp_path.iterdir()) == []  # neither the video nor its partial file
