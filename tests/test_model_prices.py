"""What each model costs on each host, worked out here from the reference's figures, not from the code's;
and a finished job counted as the video it made."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import pytest

from server.ledger.sqlite import SqliteLedger
from server.settings import Settings
from tests.conftest import connect, text_of
from tests.fake_fal import FakeFal
from tests.fake_hosts import FakeArk
from tests.hosts import ArkHost
from tests.test_models import IMAGE, unbounded

pytestmark = pytest.mark.anyio


# USD per 1000 tokens as the reference gives them (lineup-2026.md §1.1, §1.5, §2.5), the higher where
# they disagree, and whether the figure is confirmed.
RATES: list[tuple[str, str, str, str, bool]] = [
    ("fal", "seedance-2.0", "480p", "0.014", True),
    ("fal", "seedance-2.0", "720p", "0.014", True),
    ("fal", "seedance-2.0", "1080p", "0.0154", False),
    ("fal", "seedance-2.0", "4k", "0.014", False),
    ("fal", "seedance-2.0-fast", "480p", "0.0112", True),
    ("fal", "seedance-2.0-fast", "720p", "0.0112", True),
    ("fal", "seedance-2.0-mini", "480p", "0.007", True),
    ("fal", "seedance-2.0-mini", "720p", "0.007", True),
    ("fal", "seedance-2.5", "480p", "0.0214", True),
    ("fal", "seedance-2.5", "720p", "0.0214", True),
    ("fal", "seedance-2.5", "1080p", "0.0234", False),
    ("fal-us", "seedance-2.0", "480p", "0.0168", True),
    ("fal-us", "seedance-2.0", "720p", "0.0168", True),
    ("fal-us", "seedance-2.0", "1080p", "0.01848", False),
    ("fal-us", "seedance-2.0", "4k", "0.0168", False),
    ("fal-us", "seedance-2.5", "480p", "0.02568", True),
    ("fal-us", "seedance-2.5", "720p", "0.02568", True),
    ("fal-us", "seedance-2.5", "1080p", "0.02808", False),
    ("runflow", "seedance-2.0", "480p", "0.014", True),
    ("runflow", "seedance-2.0", "720p", "0.014", True),
    ("runflow", "seedance-2.0", "1080p", "0.0154", False),
    ("runflow", "seedance-2.0-fast", "480p", "0.0112", True),
    ("runflow", "seedance-2.0-fast", "720p", "0.0112", True),
    ("ark", "seedance-2.0", "480p", "0.0070", True),
    ("ark", "seedance-2.0", "720p", "0.0070", True),
    ("ark", "seedance-2.0", "1080p", "0.0077", False),
    ("ark", "seedance-2.0", "4k", "0.0077", False),
    ("ark", "seedance-2.0-fast", "480p", "0.0056", True),
    ("ark", "seedance-2.0-fast", "720p", "0.0056", True),
    ("ark", "seedance-2.0-mini", "480p", "0.0035", True),
    ("ark", "seedance-2.0-mini", "720p", "0.0035", True),
    ("ark", "seedance-2.5", "480p", "0.0107", True),
    ("ark", "seedance-2.5", "720p", "0.0107", True),
    ("ark", "seedance-2.5", "1080p", "0.0117", True),
]
SIZES: dict[Any, tuple[int, int]] = {
    ("seedance-2.0", "480p"): (864, 496),
    ("seedance-2.5", "480p"): (854, 480),
    "720p": (1280, 720),
    "1080p": (1920, 1080),
    "4k": (3840, 2160),
}


@pytest.mark.parametrize(("host", "model", "resolution", "rate", "confirmed"), RATES)
async def test_estimate_cost_is_the_token_formula_at_each_models_rate(
    settings: Settings, host: str, model: str, resolution: str, rate: str, confirmed: bool
):
    call = {"mode": "text-to-video", "model": model, "resolution": resolution, "duration": "5", "aspect_ratio": "16:9"}
    async with connect(settings) as client:
        result = await client.call_tool("estimate_cost", {**call, "provider": host})
    assert not result.is_error, text_of(result)
    size = SIZES.get((model if model == "seedance-2.5" else "seedance-2.0", resolution)) or SIZES[resolution]
    width, height = size
    expected = Decimal(width * height * 5 * 24) / 1024 * Decimal(rate) / 1000
    found = result.structured_content or {}
    assert round(Decimal(str(found["max_usd"])), 2) == round(expected, 2) == round(Decimal(str(found["min_usd"])), 2)
    assert found["price_confirmed"] is confirmed
    assert ("unconfirmed" in text_of(result)) is not confirmed


async def test_a_finished_job_is_recorded_and_counted_as_the_video_it_made(
    settings: Settings, fake_ark_server: FakeArk
):
    """ModelArk says 1280x720 for a 720p 16:9 task; the file it links is 864x496 and 4 s. The ledger keeps the
    file's figures, and the job costs, and the budget counts, that video at ModelArk's 720p rate."""
    fake_ark_server.reset()
    ark = ArkHost(fake_ark_server).settings(settings)
    call = {"prompt": "a lighthouse", "resolution": "720p", "aspect_ratio": "16:9", "duration": "auto"}
    async with connect(ark) as client:
        done = await client.call_tool("generate_text_video", call)
    job = done.structured_content or {}
    assert job["status"] == "completed", text_of(done)
    assert (job["video"]["width"], job["video"]["height"], job["video"]["duration"]) == (864, 496, 4.0)
    cost = float(Decimal(864 * 496 * 4 * 24) / 1024 * Decimal("0.0070") / 1000)
    assert job["estimated_cost_usd"] == {"min": cost, "max": cost}
    assert f"${cost:.2f}" in text_of(done)
    ledger = SqliteLedger(ark.ledger_path)
    try:
        assert (await ledger.spent_since(0))[0] == cost  # not the estimate's $0.68-$2.54 upper bound
    finally:
        await ledger.close()


async def test_the_us_region_sends_fal_jobs_to_the_us_copies_at_their_price(settings: Settings, fake_fal: FakeFal):
    us = dataclasses.replace(unbounded(settings), fal_region="us")
    five = {"prompt": "a lighthouse", "duration": "5", "aspect_ratio": "16:9", "wait_seconds": 0}
    async with connect(us) as client:
        standard = await client.call_tool("generate_text_video", five)
        del five["aspect_ratio"]  # 2.5's image input takes only "auto"
        newer = await client.call_tool("animate_image", {**five, "model": "seedance-2.5", "image_url": IMAGE})
        refused = {
            model: await client.call_tool("generate_text_video", {**five, "model": model})
            for model in ("seedance-2.0-fast", "seedance-2.0-mini")
        }
        draft = await client.call_tool("generate_text_video", {**five, "model": "seedance-2.5", "draft": True})
        price = await client.call_tool(
            "estimate_cost", {"mode": "text-to-video", "duration": "5", "aspect_ratio": "16:9"}
        )
    assert [job.endpoint for job in fake_fal.jobs.values()] == [
        "bytedance/seedance-2.0/us/text-to-video",
        "bytedance/seedance-2.5/us/image-to-video",
    ]
    assert fake_fal.refused == []
    cost = float(Decimal(1280 * 720 * 5 * 24) / 1024 * Decimal("0.0168") / 1000)  # 1.2x $0.014
    assert (standard.structured_content or {})["estimated_cost_usd"] == {"min": cost, "max": cost}
    assert (standard.structured_content or {})["provider"] == "fal-us"
    assert (price.structured_content or {})["max_usd"] == cost and "US" in text_of(price)
    assert not newer.is_error, text_of(newer)
    for result in refused.values():
        assert result.is_error and "fal (US) does not sell" in text_of(result), text_of(result)
        assert '"seedance-2.0", "seedance-2.5"' in text_of(result)
    assert draft.is_error and "`draft`" in text_of(draft), text_of(draft)
    assert fake_fal.count("submit") == 2
