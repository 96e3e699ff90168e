"""Jobs as resources, and the notification when one finishes."""

from __future__ import annotations

import anyio
import pytest
from mcp import MCPError
from mcp.client.subscriptions import ResourceUpdated
from mcp.types import ResourceUpdatedNotification

from server.settings import Settings
from tests.conftest import HANG_SECONDS, connect, read_json
from tests.fake_fal import FakeFal, Phase

pytestmark = pytest.mark.anyio


async def test_jobs_are_listed_and_readable_as_resources(settings: Settings, fake_fal: FakeFal):
    async with connect(settings) as client:
        resources = [r.uri for r in (await client.list_resources()).resources]
        templates = [t.uri_template for t in (await client.list_resource_templates()).resource_templates]
        result = await client.call_tool("generate_text_video", {"prompt": "first"})
        assert result.structured_content is not None
        request_id = result.structured_content["request_id"]
        jobs = await read_json(client, "seedance://jobs")
        record = await read_json(client, f"seedance://jobs/{request_id}")
        with pytest.raises(MCPError):
            await client.read_resource("seedance://jobs/not-a-job")
    assert resources == ["ui://seedance/job.html", "seedance://jobs", "seedance://films"]  # the card, jobs, films
    assert templates == [
        "seedance://jobs/{request_id}",
        "seedance://jobs/{request_id}/video",
        "seedance://films/{film_id}",
    ]
    assert [job["request_id"] for job in jobs] == [request_id]
    assert record["status"] == "completed" and record["arguments"]["prompt"] == "first"
    assert record["video"]["url"] == result.structured_content["video"]["url"]


async def test_a_finished_job_sends_a_resource_updated_notification(settings: Settings, fake_fal: FakeFal):
    fake_fal.plan = [Phase("IN_QUEUE", None, queue_position=0)]
    async with connect(settings) as client:
        result = await client.call_tool("generate_text_video", {"prompt": "later", "wait_seconds": 0})
        assert result.structured_content is not None
        uri = result.structured_content["job_uri"]
        async with client.listen(resource_subscriptions=[uri]) as subscription:
            fake_fal.advance(result.structured_content["request_id"])
            with anyio.fail_after(HANG_SECONDS):
                event = await subscription.__anext__()
        record = await read_json(client, uri)
    assert event == ResourceUpdated(uri=uri)
    assert record["status"] == "completed"


async def test_a_client_on_the_2025_protocol_hears_of_a_finished_job_too(settings: Settings, fake_fal: FakeFal):
    fake_fal.plan = [Phase("IN_QUEUE", None, queue_position=0)]
    updated = anyio.Event()
    heard: list[str] = []

    async def on_message(message: object) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            heard.append(message.params.uri)
            updated.set()

    async with connect(settings, mode="legacy", message_handler=on_message) as client:
        assert client.server_capabilities and client.server_capabilities.resources
        assert client.server_capabilities.resources.subscribe is True
        result = await client.call_tool("generate_text_video", {"prompt": "later", "wait_seconds": 0})
        assert result.structured_content is not None
        uri = result.structured_content["job_uri"]
        await client.subscribe_resource(uri)
        fake_fal.advance(result.structured_content["request_id"])
        with anyio.fail_after(HANG_SECONDS):
            await updated.wait()
    assert heard == [uri]
