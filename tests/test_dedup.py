"""No double charge: an identical call gets the earlier job back instead of paying again."""

from __future__ import annotations

import dataclasses

import anyio
import pytest

from server.settings import Settings
from tests.conftest import connect, text_of
from tests.fake_fal import FakeFal, Phase

pytestmark = pytest.mark.anyio

CALL = {"prompt": "a heron takes off", "duration": "5", "aspect_ratio": "16:9"}


async def test_a_retried_call_gets_the_pending_job_back(settings: Settings, fake_fal: FakeFal):
    fake_fal.plan = [Phase("IN_QUEUE", None, queue_position=2)]
    async with connect(settings) as client:
        first = await client.call_tool("generate_text_video", {**CALL, "wait_seconds": 0})
        again = await client.call_tool("generate_text_video", {**CALL, "wait_seconds": 0})
    assert first.structured_content and again.structured_content
    assert again.structured_content["request_id"] == first.structured_content["request_id"]
    assert again.structured_content["reused"] is True and first.structured_content["reused"] is False
    assert "An identical call already started this job" in text_of(again) and "force_new=true" in text_of(again)
    assert fake_fal.count("submit") == 1


async def test_a_finished_job_is_returned_to_an_identical_call_without_a_new_submit(
    settings: Settings, fake_fal: FakeFal
):
    async with connect(settings) as client:
        first = await client.call_tool("generate_text_video", CALL)
        again = await client.call_tool("generate_text_video", {**CALL, "resolution": "720p"})  # the default, spelt out
    assert first.structured_content and again.structured_content
    assert again.structured_content["status"] == "completed"
    assert again.structured_content["video"] == first.structured_content["video"]
    assert fake_fal.count("submit") == 1


async def test_force_new_or_a_different_argument_submits_again(settings: Settings, fake_fal: FakeFal):
    async with connect(settings) as client:
        await client.call_tool("generate_text_video", CALL)
        forced = await client.call_tool("generate_text_video", {**CALL, "force_new": True})
        other = await client.call_tool("generate_text_video", {**CALL, "generate_audio": False})
        other_model = await client.call_tool("generate_text_video", {**CALL, "model": "seedance-2.0-fast"})
    assert forced.structured_content and forced.structured_content["reused"] is False
    assert other.structured_content and other_model.structured_content
    assert fake_fal.count("submit") == 4


async def test_a_failed_job_is_not_returned_again(settings: Settings, fake_fal: FakeFal):
    fake_fal.outcome = "invalid"
    async with connect(settings) as client:
        failed = await client.call_tool("generate_text_video", CALL)
        fake_fal.outcome = "ok"
        retried = await client.call_tool("generate_text_video", CALL)
    assert failed.is_error
    assert retried.structured_content and retried.structured_content["status"] == "completed"
    assert fake_fal.count("submit") == 2


async def test_dedup_seconds_zero_turns_it_off(settings: Settings, fake_fal: FakeFal):
    async with connect(dataclasses.replace(settings, dedup_seconds=0)) as client:
        await client.call_tool("generate_text_video", CALL)
        await client.call_tool("generate_text_video", CALL)
    assert fake_fal.count("submit") == 2


async def test_identical_calls_at_once_submit_once(settings: Settings, fake_fal: FakeFal):
    results: list[object] = []
    async with connect(settings) as client:

        async def call() -> None:
            results.append(await client.call_tool("generate_text_video", CALL))

        async with anyio.create_task_group() as tg:
            for _ in range(5):
                tg.start_soon(call)
    ids = {getattr(r, "structured_content", {})["request_id"] for r in results}
    assert len(ids) == 1 and fake_fal.count("submit") == 1


async def test_after_an_uncertain_submit_an_identical_call_is_held_back(settings: Settings, fake_fal: FakeFal):
    fake_fal.inject("submit", "502-ingress")
    async with connect(settings) as client:
        lost = await client.call_tool("generate_text_video", CALL)
        held = await client.call_tool("generate_text_video", CALL)
        forced = await client.call_tool("generate_text_video", {**CALL, "force_new": True})
    assert lost.is_error and "may exist" in text_of(lost)
    assert held.is_error and "may already have started a job" in text_of(held) and "force_new=true" in text_of(held)
    assert forced.structured_content and forced.structured_content["status"] == "completed"
    assert fake_fal.count("submit") == 2  # the lost one and the forced one; the held-back call sent nothing
