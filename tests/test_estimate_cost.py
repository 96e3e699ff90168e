"""estimate_cost reproduces fal's published prices exactly."""

from __future__ import annotations

from typing import Any

import pytest

from server.settings import Settings
from tests.conftest import connect

pytestmark = pytest.mark.anyio


async def estimate(settings: Settings, **arguments: Any) -> dict[str, Any]:
    async with connect(settings) as client:
        result = await client.call_tool("estimate_cost", arguments)
    assert not result.is_error and result.structured_content is not None
    return dict(result.structured_content)


@pytest.mark.parametrize(
    ("arguments", "low", "high"),
    [
        ({"mode": "text-to-video", "duration": "10", "aspect_ratio": "16:9"}, 3.024, 3.024),
        (
            {"mode": "text-to-video", "duration": "10", "aspect_ratio": "16:9", "model": "seedance-2.0-fast"},
            2.4192,
            2.4192,
        ),
        ({"mode": "image-to-video", "duration": "1" + "5", "aspect_ratio": "9:16"}, 4.536, 4.536),
        # 480p 16:9 is 864 x 496: 10,044 tokens a second
        ({"mode": "text-to-video", "duration": "4", "aspect_ratio": "16:9", "resolution": "480p"}, 0.562464, 0.562464),
        # auto: 4 s at the smallest 720p frame to 15 s at the largest (1112 x 834)
        ({"mode": "text-to-video"}, 1.2096, 4.564586),
        # reference videos: their 5 s are billed with the 5 s output, at 0.6 x the rate
        (
            {"mode": "reference-to-video", "duration": "5", "aspect_ratio": "16:9", "reference_video_seconds": 5},
            1.8144,
            1.8144,
        ),
    ],
)
async def test_estimates_follow_the_token_formula(
    settings: Settings, arguments: dict[str, Any], low: float, high: float
):
    result = await estimate(settings, **arguments)
    assert (result["min_usd"], result["max_usd"]) == (low, high)


async def test_standard_720p_costs_exactly_the_published_rate_per_second(settings: Settings):
    standard = await estimate(settings, mode="text-to-video", duration="10", aspect_ratio="16:9")
    fast = await estimate(settings, mode="text-to-video", duration="10", aspect_ratio="16:9", model="seedance-2.0-fast")
    assert standard["usd_per_second_min"] == 0.3024 and fast["usd_per_second_min"] == 0.24192
    assert standard["min_tokens"] == 216_000
    assert fast["endpoint"] == "bytedance/seedance-2.0/fast/text-to-video"
