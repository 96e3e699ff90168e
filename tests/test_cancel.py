"""A cancelled tool call cancels a queued job at fal, and leaves a generating one running."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from mcp import Client, MCPError

from server.settings import Settings
from tests.conftest import HANG_SECONDS, connect, read_json
from tests.fake_fal import FakeFal, Phase

pytestmark = pytest.mark.anyio


async def job_record(client: Client, request_id: str) -> Any:
    return await read_json(client, f"seedance://jobs/{request_id}")


async def ledger_status(client: Client, request_id: str) -> str | None:
    """The job's status in the ledger; None before it is there (the host has it, but its answer to the submit
    has not yet reached the server)."""
    try:
        return str((await job_record(client, request_id))["status"])
    except MCPError as exc:
        if "in the ledger" not in str(exc):
            raise
        return None


async def call_then_stop(client: Client, fake: FakeFal, prompt: str, when: str) -> str:
    """The person presses stop once the ledger says the job is `when`: the call is cancelled then, on that
    event, however long the machine took to get there. Returns the job's id."""
    async with anyio.create_task_group() as calls:
        calls.start_soon(lambda: client.call_tool("generate_text_video", {"prompt": prompt}))
        with anyio.fail_after(HANG_SECONDS):
            while not fake.jobs or await ledger_status(client, fake.only_job().request_id) != when:
                await anyio.sleep(0.02)
        calls.cancel_scope.cancel()
    return fake.only_job().request_id


@pytest.mark.parametrize("mode", ["2026-07-28", "legacy"])
async def test_cancelling_the_call_while_queued_cancels_the_job_at_fal(
    settings: Settings, fake_fal: FakeFal, mode: str
):
    fake_fal.plan = [Phase("IN_QUEUE", None, queue_position=4)]
    async with connect(settings, mode=mode) as client:
        request_id = await call_then_stop(client, fake_fal, "never mind", "queued")
        with anyio.fail_after(HANG_SECONDS):
            while (await job_record(client, request_id))["status"] != "cancelled":
                await anyio.sleep(0.02)
        record = await job_record(client, request_id)
        status = await client.call_tool("get_job", {"request_id": request_id, "wait_seconds": 0})
    assert fake_fal.count("cancel") == 1
    assert fake_fal.only_job().cancelled
    details = [e["detail"] for e in record["events"] if e["event"] == "cancelled"]
    assert any("nothing billed" in (detail or "") for detail in details), record["events"]
    assert status.structured_content and status.structured_content["status"] == "cancelled"


async def test_cancelling_the_call_while_generating_keeps_the_job_for_get_job(settings: Settings, fake_fal: FakeFal):
    fake_fal.plan = [Phase("IN_QUEUE", 0.02, queue_position=0), Phase("IN_PROGRESS", None, log="rendering")]
    async with connect(settings) as client:
        request_id = await call_then_stop(client, fake_fal, "keep going", "in_progress")
        with anyio.fail_after(HANG_SECONDS):
            while "detached" not in [e["event"] for e in (await job_record(client, request_id))["events"]]:
                await anyio.sleep(0.02)
        fake_fal.advance(request_id)
        result = await client.call_tool("get_job", {"request_id": request_id})
    assert fake_fal.count("cancel") == 0
    assert result.structured_content and result.structured_content["status"] == "completed"
