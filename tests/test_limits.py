"""Limits per person and draining, through a real MCP client: a call over a limit is a tool error naming it and
when to retry, and it submits nothing. Across replicas: tests/test_operations.py."""

from __future__ import annotations

import dataclasses
from typing import Any

import anyio
import pytest
from mcp.types import CallToolResult

from server.app import build_server
from server.operations.draining import Drain
from server.settings import HTTP_USER_CALLS_PER_MINUTE, HTTP_USER_MAX_JOBS_IN_FLIGHT, Settings
from server.trust import Trust
from tests.conftest import RecordingClient, connect, text_of
from tests.fake_fal import FakeFal, Phase
from tests.networks import LoopbackOnly, Resolver

pytestmark = pytest.mark.anyio

HELD = [Phase("IN_QUEUE", 0.01, queue_position=0), Phase("IN_PROGRESS", None, log="generating")]
QUICK = {"duration": "4", "aspect_ratio": "16:9", "wait_seconds": 0}


def over_http(settings: Settings, **changes: Any) -> Settings:
    return dataclasses.replace(settings, transport="http", **changes)


def test_limits_per_person_are_on_over_http_and_off_on_stdio_unless_set():
    assert (Settings().jobs_in_flight_cap, Settings().calls_per_minute_cap) == (None, None)
    http = Settings(transport="http")
    assert (http.jobs_in_flight_cap, http.calls_per_minute_cap) == (
        HTTP_USER_MAX_JOBS_IN_FLIGHT,
        HTTP_USER_CALLS_PER_MINUTE,
    )
    assert Settings(user_max_jobs_in_flight=2).jobs_in_flight_cap == 2  # asked for on stdio: on
    assert Settings(transport="http", user_calls_per_minute=0).calls_per_minute_cap is None  # 0: off


async def test_a_person_over_the_jobs_in_flight_cap_is_refused_until_one_finishes(settings: Settings, fake_fal):
    fake_fal.plan = list(HELD)
    async with connect(over_http(settings, user_max_jobs_in_flight=2)) as client:
        first = await client.call_tool("generate_text_video", {"prompt": "one", **QUICK})
        second = await client.call_tool("generate_text_video", {"prompt": "two", **QUICK})
        refused = await client.call_tool("generate_text_video", {"prompt": "three", **QUICK})
        assert refused.is_error, text_of(refused)
        assert fake_fal.count("submit") == 2  # the third sent nothing
        text = text_of(refused)
        assert "2 paid jobs in flight" in text and "SEEDANCE_USER_MAX_JOBS_IN_FLIGHT" in text
        assert "Nothing was submitted or charged" in text and "Retry this same call" in text

        assert first.structured_content and second.structured_content
        fake_fal.advance(first.structured_content["request_id"])
        done = await client.call_tool("get_job", {"request_id": first.structured_content["request_id"]})
        assert done.structured_content and done.structured_content["status"] == "completed", text_of(done)
        again = await client.call_tool("generate_text_video", {"prompt": "three", **QUICK})
    assert not again.is_error, text_of(again)
    assert fake_fal.count("submit") == 3


async def test_previews_do_not_count_against_the_jobs_in_flight_cap(tmp_path):
    local = Settings(provider="local", home=tmp_path / "home", transport="http", user_max_jobs_in_flight=1)
    async with connect(local) as client:
        results = [
            await client.call_tool("generate_text_video", {"prompt": f"free {n}", "resolution": "480p", **QUICK})
            for n in range(3)
        ]
    assert not any(result.is_error for result in results), [text_of(r) for r in results]


async def test_calls_over_the_minute_cap_are_refused_and_submit_nothing(settings: Settings, fake_fal: FakeFal):
    fake_fal.plan = list(HELD)
    cap = 3
    results: list[CallToolResult] = []
    async with connect(over_http(settings, user_calls_per_minute=cap, user_max_jobs_in_flight=0)) as client:
        # Minutes count afresh: calls that straddle the turn of one are refused by the (2 * cap + 1)th at the latest.
        for n in range(2 * cap + 1):
            results.append(await client.call_tool("generate_text_video", {"prompt": f"call {n}", **QUICK}))
            if results[-1].is_error:
                break
    refused = results[-1]
    text = text_of(refused)
    assert refused.is_error and "SEEDANCE_USER_CALLS_PER_MINUTE" in text and f"at most {cap} tool calls" in text
    assert "Nothing was submitted or charged" in text and "Retry this same call in " in text
    assert fake_fal.count("submit") == len(results) - 1  # every call before it submitted; it did not


async def test_a_stopping_server_hands_back_waiting_calls_and_refuses_new_ones(settings: Settings, fake_fal):
    fake_fal.plan = list(HELD)
    drain = Drain(settings.drain_seconds)
    trust = Trust.of(settings, resolver=Resolver(), network=LoopbackOnly())
    server = build_server(settings, trust, drain=drain)
    answers: list[CallToolResult] = []
    async with RecordingClient(server) as client:

        async def waiting_call() -> None:
            answers.append(await client.call_tool("generate_text_video", {"prompt": "long", "duration": "4"}))

        async with anyio.create_task_group() as tg:
            tg.start_soon(waiting_call)
            while not fake_fal.requests or fake_fal.count("submit") == 0 or drain.calls == 0:
                await anyio.sleep(0.01)  # the call is in, and waits for a job that does not end
            drain.begin()
        refused = await client.call_tool("estimate_cost", {"mode": "text-to-video"})

    (handed,) = answers
    assert handed.structured_content, text_of(handed)
    assert handed.structured_content["status"] in ("queued", "in_progress")  # the job goes on, handed back
    assert refused.is_error and "stopping" in text_of(refused) and "Retry this same call" in text_of(refused)
    assert drain.over()
