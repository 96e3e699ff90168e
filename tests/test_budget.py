"""Spending limits refuse a job before anything is submitted."""

from __future__ import annotations

import dataclasses

import pytest

from server.settings import Settings
from tests.conftest import connect, text_of
from tests.fake_fal import FakeFal

pytestmark = pytest.mark.anyio


async def test_a_job_above_the_cap_is_refused_before_any_submit(settings: Settings, fake_fal: FakeFal):
    async with connect(dataclasses.replace(settings, max_usd_per_job=2.0)) as client:
        refused = await client.call_tool("generate_text_video", {"prompt": "a long epic", "duration": "15"})
        allowed = await client.call_tool(
            "generate_text_video", {"prompt": "short", "duration": "5", "aspect_ratio": "16:9"}
        )
    text = text_of(refused)
    assert refused.is_error and "$4.54" in text and "$2.00 per job" in text and "SEEDANCE_MAX_USD_PER_JOB" in text
    assert allowed.structured_content and allowed.structured_content["status"] == "completed"
    assert fake_fal.count("submit") == 1


async def test_the_daily_budget_counts_what_the_ledger_spent_today(settings: Settings, fake_fal: FakeFal):
    args = {"duration": "5", "aspect_ratio": "16:9"}  # $1.512 each up front; $0.562464 once the fake's 4 s
    # 864x496 clip is made: the budget counts what a finished job made, so two leave $1.38 of $2.50
    async with connect(dataclasses.replace(settings, daily_budget_usd=2.5)) as client:
        first = await client.call_tool("generate_text_video", {"prompt": "one", **args})
        second = await client.call_tool("generate_text_video", {"prompt": "two", **args})
        third = await client.call_tool("generate_text_video", {"prompt": "three", **args})
        retried = await client.call_tool("generate_text_video", {"prompt": "two", **args})  # reuses: costs nothing
    assert not first.is_error and not second.is_error and not retried.is_error
    assert third.is_error and "$1.38 of today's $2.50 budget" in text_of(third)
    assert fake_fal.count("submit") == 2


async def test_previews_are_free_and_not_limited(tmp_path):
    local = Settings(provider="local", home=tmp_path / "home", max_usd_per_job=0.01)
    async with connect(local) as client:
        result = await client.call_tool(
            "generate_text_video", {"prompt": "free", "resolution": "480p", "duration": "4"}
        )
    assert result.structured_content and result.structured_content["status"] == "completed"
