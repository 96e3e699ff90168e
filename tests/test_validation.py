"""Bad calls are refused with a message naming the field, what is allowed and how to fix it, and cost nothing."""

from __future__ import annotations

from typing import Any

import pytest
from mcp.types import TextContent

from server.settings import Settings
from tests.conftest import connect
from tests.fake_fal import FakeFal

pytestmark = pytest.mark.anyio

TEXT = {"prompt": "a cat"}
IMAGE = {"prompt": "a cat", "image_url": "https://e.com/cat.png"}
URL = "https://e.com/x"

# tool, arguments, words the error must contain
BAD_CALLS: list[tuple[str, dict[str, Any], list[str]]] = [
    ("generate_text_video", {**TEXT, "duration": "3"}, ["`duration`", '"auto"', '"15"', "Fix:"]),
    ("generate_text_video", {**TEXT, "duration": "16"}, ["`duration`", '"4"']),
    ("generate_text_video", {**TEXT, "duration": 5}, ["`duration`", 'send it as the string "5"']),
    ("generate_text_video", {**TEXT, "resolution": "1080p"}, ["`resolution`", '"480p", "720p"']),
    ("generate_text_video", {**TEXT, "aspect_ratio": "2:1"}, ["`aspect_ratio`", '"21:9"', '"9:16"']),
    ("generate_text_video", {**TEXT, "tier": "turbo"}, ["`tier`", '"standard", "fast"']),
    ("generate_text_video", {"prompt": ""}, ["`prompt`", "not blank"]),
    ("generate_text_video", {"prompt": "   "}, ["`prompt`", "not blank"]),
    ("generate_text_video", {}, ["`prompt`", "is required", "add `prompt`"]),
    ("generate_text_video", {**TEXT, "seed": -1}, ["`seed`", "from 0 to 2147483647"]),
    ("generate_text_video", {**TEXT, "seed": 2**31}, ["`seed`", "from 0 to 2147483647"]),
    ("generate_text_video", {**TEXT, "generate_audio": "loud"}, ["`generate_audio`", "true or false"]),
    ("generate_text_video", {**TEXT, "wait_seconds": -1}, ["`wait_seconds`"]),
    ("generate_text_video", {**TEXT, "image_url": URL}, ["`image_url` is not a parameter", "remove it"]),
    ("animate_image", {"prompt": "a cat"}, ["`image_url`", "is required"]),
    ("animate_image", {**IMAGE, "image_url": "ftp://e.com/cat.png"}, ["`image_url`", "https://"]),
    ("animate_image", {**IMAGE, "end_image_url": "cat.png"}, ["`end_image_url`", "https://"]),
    ("reference_video", {**TEXT, "image_urls": [URL] * 10}, ["`image_urls`", "at most 9"]),
    ("reference_video", {**TEXT, "video_urls": [URL] * 4}, ["`video_urls`", "at most 3"]),
    ("reference_video", {**TEXT, "image_urls": [URL], "audio_urls": [URL] * 4}, ["`audio_urls`", "at most 3"]),
    ("reference_video", {**TEXT, "image_urls": ["file:///etc/passwd"]}, ["`image_urls[0]`", "outside the folders"]),
    ("reference_video", {**TEXT, "audio_urls": [URL]}, ["`audio_urls`", "image or video"]),
    ("reference_video", {**TEXT}, ["`image_urls`", "at least one image or video"]),
    (
        "reference_video",
        {**TEXT, "image_urls": [URL] * 9, "video_urls": [URL] * 3, "audio_urls": [URL]},
        ["13 files", "at most 12"],
    ),
    ("reference_video", {**TEXT, "image_urls": [URL], "end_image_url": URL}, ["`end_image_url` is not a parameter"]),
    ("get_job", {"request_id": "no-such-job"}, ["no-such-job", "seedance://jobs"]),
    ("get_job", {}, ["`request_id`", "is required"]),
    ("estimate_cost", {"mode": "video"}, ["`mode`", '"text-to-video"']),
    ("estimate_cost", {"mode": "text-to-video", "reference_video_seconds": 5}, ["`reference_video_seconds`"]),
    ("estimate_cost", {"mode": "reference-to-video", "reference_video_seconds": 30}, ["`reference_video_seconds`"]),
    ("generate_text_video", {**TEXT, "duration": 4.5}, ["`duration`", '"4"']),
    ("generate_text_video", {**TEXT, "duration": "auto "}, ["`duration`", '"auto"']),
    ("generate_text_video", {**TEXT, "resolution": "720"}, ["`resolution`", '"720p"']),
    ("generate_text_video", {**TEXT, "aspect_ratio": "16x9"}, ["`aspect_ratio`", '"16:9"']),
    ("generate_text_video", {**TEXT, "tier": ""}, ["`tier`", '"standard"']),
    ("generate_text_video", {"prompt": 123}, ["`prompt`", "a non-empty text"]),
    ("generate_text_video", {**TEXT, "seed": "abc"}, ["`seed`", "an integer"]),
    ("generate_text_video", {**TEXT, "seed": 1.5}, ["`seed`", "an integer"]),
    ("generate_text_video", {**TEXT, "end_user_id": 5}, ["`end_user_id`", "a text"]),
    ("generate_text_video", {**TEXT, "wait_seconds": 601}, ["`wait_seconds`", "from 0 to 600"]),
    ("generate_text_video", {**TEXT, "force_new": "maybe"}, ["`force_new`", "true or false"]),
    ("generate_text_video", {**TEXT, "audio_urls": [URL]}, ["`audio_urls` is not a parameter"]),
    ("generate_text_video", {**TEXT, "end_image_url": URL}, ["`end_image_url` is not a parameter"]),
    ("animate_image", {**IMAGE, "image_url": ""}, ["`image_url`", "https://"]),
    ("animate_image", {**IMAGE, "image_urls": [URL]}, ["`image_urls` is not a parameter"]),
    ("animate_image", {**IMAGE, "end_image_url": "javascript:alert(1)"}, ["`end_image_url`", "https://"]),
    ("reference_video", {**TEXT, "image_urls": URL}, ["`image_urls`", "a valid list"]),
    ("reference_video", {**TEXT, "video_urls": ["ftp://e.com/a.mp4"]}, ["`video_urls[0]`", "https://"]),
    ("reference_video", {**TEXT, "image_urls": [URL], "duration": "1"}, ["`duration`", '"auto"']),
    ("get_job", {"request_id": ""}, ["`request_id`", "non-empty"]),
    ("get_job", {"request_id": "x", "wait_seconds": -5}, ["`wait_seconds`", "from 0 to 600"]),
    ("estimate_cost", {"mode": "text-to-video", "tier": "cheap"}, ["`tier`", '"fast"']),
    ("estimate_cost", {"mode": "text-to-video", "duration": "20"}, ["`duration`", '"15"']),
    (
        "estimate_cost",
        {"mode": "reference-to-video", "reference_video_seconds": 1},
        ["`reference_video_seconds`", "from 2.0"],
    ),
    ("estimate_cost", {}, ["`mode`", "is required"]),
    ("estimate_cost", {"mode": "text-to-video", "prompt": "x"}, ["`prompt` is not a parameter"]),
]
BAD_INPUTS_TRIED = len(BAD_CALLS)


@pytest.mark.parametrize(("tool", "arguments", "expected"), BAD_CALLS)
async def test_a_bad_call_is_refused_before_anything_is_sent(
    settings: Settings, fake_fal: FakeFal, tool: str, arguments: dict[str, Any], expected: list[str]
):
    async with connect(settings) as client:
        result = await client.call_tool(tool, arguments)
    assert result.is_error
    text = "\n".join(block.text for block in result.content if isinstance(block, TextContent))
    for words in expected:
        assert words in text, f"{words!r} not in: {text}"
    assert fake_fal.count("submit") == 0


async def test_every_bad_field_is_named_in_one_answer(settings: Settings, fake_fal: FakeFal):
    async with connect(settings) as client:
        result = await client.call_tool("generate_text_video", {"prompt": "x", "duration": "3", "resolution": "4k"})
    text = result.content[0].text  # type: ignore[union-attr]
    assert "`duration`" in text and "`resolution`" in text
    assert "nothing was submitted or charged" in text
