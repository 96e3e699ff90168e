"""What the model reads when fal refuses, fails, or its status stream breaks."""

from __future__ import annotations

import dataclasses
import socket

import pytest

from server.settings import Settings
from tests.conftest import CANARY_KEY, connect, read_json, text_of
from tests.fake_fal import FakeFal

pytestmark = pytest.mark.anyio


async def test_a_422_from_the_result_names_the_field_and_marks_the_job_failed(settings: Settings, fake_fal: FakeFal):
    fake_fal.outcome = "invalid"
    async with connect(settings) as client:
        result = await client.call_tool("animate_image", {"prompt": "x", "image_url": "https://e.com/a.gif"})
        assert result.structured_content is not None
        record = await read_json(client, result.structured_content["job_uri"])
    assert result.is_error
    assert "`image_url`: Unsupported image format" in text_of(result)
    assert record["status"] == "failed" and "image_url" in record["error"]


async def test_a_job_completed_with_an_error_type_is_explained_in_plain_words(settings: Settings, fake_fal: FakeFal):
    fake_fal.outcome = "error"
    async with connect(settings) as client:
        result = await client.call_tool("generate_text_video", {"prompt": "x"})
    assert result.is_error
    assert "the machine running the model disconnected" in text_of(result)
    assert [kind for kind, _ in fake_fal.requests] == ["submit", "stream"]  # no result fetch for a known failure


async def test_a_rejected_key_is_reported_without_printing_it(settings: Settings, fake_fal: FakeFal):
    wrong = "wrong-key-7d3c1b:9e8f7a6b5c4d"
    async with connect(dataclasses.replace(settings, fal_key=wrong)) as client:
        result = await client.call_tool("generate_text_video", {"prompt": "x"})
    text = text_of(result)
    assert result.is_error and "rejected the API key (HTTP 401)" in text and "FAL_KEY" in text
    assert wrong not in text and "9e8f7a6b5c4d" not in text


async def test_without_a_key_generation_is_refused_but_estimates_work(settings: Settings, fake_fal: FakeFal):
    async with connect(dataclasses.replace(settings, fal_key=None)) as client:
        refused = await client.call_tool("generate_text_video", {"prompt": "x"})
        estimate = await client.call_tool("estimate_cost", {"mode": "text-to-video", "duration": "5"})
    assert refused.is_error and "FAL_KEY" in text_of(refused)
    assert not estimate.is_error
    assert fake_fal.count() == 0


@pytest.mark.parametrize("mode", ["close_early", "fail"])
async def test_a_broken_status_stream_falls_back_to_polling(settings: Settings, fake_fal: FakeFal, mode: str):
    fake_fal.stream_mode = mode  # type: ignore[assignment]
    async with connect(settings) as client:
        result = await client.call_tool("generate_text_video", {"prompt": "x"})
    assert result.structured_content and result.structured_content["status"] == "completed"
    kinds = [kind for kind, _ in fake_fal.requests]
    assert kinds[:2] == ["submit", "stream"] and "status" in kinds and kinds[-1] == "result"


async def test_an_unreachable_queue_says_nothing_was_submitted(settings: Settings, fake_fal: FakeFal):
    with socket.socket() as sock:  # a port that was just free: connecting is refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with connect(dataclasses.replace(settings, fal_queue_url=f"http://127.0.0.1:{port}")) as client:
        result = await client.call_tool("generate_text_video", {"prompt": "x"})
    text = text_of(result)
    assert result.is_error and "Nothing was submitted and nothing was charged" in text
    assert CANARY_KEY not in text
