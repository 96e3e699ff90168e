"""A costly job waits for a yes: from the user where the client can ask, from confirm_cost=true where not."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from mcp.client.session import ClientRequestContext
from mcp.types import ElicitRequestParams, ElicitResult

from server.ledger.sqlite import SqliteLedger
from server.settings import Settings
from tests.conftest import connect, text_of
from tests.fake_fal import FakeFal

pytestmark = pytest.mark.anyio

TEN_SECONDS = {"prompt": "a lighthouse in a storm", "duration": "10", "aspect_ratio": "16:9"}  # $3.024
CHEAP = {"prompt": "a pebble", "duration": "4", "aspect_ratio": "16:9", "resolution": "480p"}  # $0.56


@pytest.fixture
def asking(settings: Settings) -> Settings:
    """The shipped threshold: ask above $1."""
    return dataclasses.replace(settings, confirm_above_usd=1.0)


class User:
    """A person answering the client's confirmation dialog."""

    def __init__(self, action: str = "accept", content: dict[str, Any] | None = None) -> None:
        self.action = action
        self.content = {"approve": True} if content is None and action == "accept" else content
        self.questions: list[str] = []

    async def __call__(self, context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        self.questions.append(params.message)
        return ElicitResult(action=self.action, content=self.content)  # type: ignore[arg-type]


async def approvals(settings: Settings, request_id: str) -> list[str | None]:
    ledger = SqliteLedger(settings.ledger_path)
    try:
        return [event.detail for event in await ledger.events(request_id) if event.event == "cost_approved"]
    finally:
        await ledger.close()


async def test_without_elicitation_the_price_comes_back_and_confirm_cost_goes_ahead(
    asking: Settings, fake_fal: FakeFal
):
    async with connect(asking) as client:
        refused = await client.call_tool("generate_text_video", TEN_SECONDS)
        assert fake_fal.count("submit") == 0
        done = await client.call_tool("generate_text_video", {**TEN_SECONDS, "confirm_cost": True})
    text = text_of(refused)
    assert refused.is_error and "$3.02" in text and "confirm_cost=true" in text and "$1.00" in text, text
    assert "Nothing was submitted" in text
    assert done.structured_content and done.structured_content["status"] == "completed", text_of(done)
    assert fake_fal.count("submit") == 1
    assert await approvals(asking, done.structured_content["request_id"]) == [
        "the model passed confirm_cost=true (the client cannot ask the user)"
    ]


@pytest.mark.parametrize("mode", ["2026-07-28", "legacy"])
async def test_a_client_that_can_ask_asks_the_user_with_the_price(asking: Settings, fake_fal: FakeFal, mode: str):
    user = User("accept")
    async with connect(asking, mode=mode, elicitation_callback=user) as client:
        done = await client.call_tool("generate_text_video", TEN_SECONDS)
    assert done.structured_content and done.structured_content["status"] == "completed", text_of(done)
    assert len(user.questions) == 1 and "$3.02" in user.questions[0], user.questions
    assert fake_fal.count("submit") == 1
    assert await approvals(asking, done.structured_content["request_id"]) == [
        "the user accepted the price in the client"
    ]


@pytest.mark.parametrize(("action", "content"), [("decline", None), ("cancel", None), ("accept", {"approve": False})])
async def test_a_user_who_says_no_is_not_charged(asking: Settings, fake_fal: FakeFal, action: str, content: Any):
    user = User(action, content)
    async with connect(asking, elicitation_callback=user) as client:
        refused = await client.call_tool("animate_image", {**TEN_SECONDS, "image_url": "https://example.com/a.png"})
    assert refused.is_error and "did not approve" in text_of(refused), text_of(refused)
    assert len(user.questions) == 1
    assert fake_fal.count("submit") == 0 and fake_fal.uploads == []


async def test_confirm_cost_does_not_answer_for_a_user_who_can_be_asked(asking: Settings, fake_fal: FakeFal):
    user = User("decline")
    async with connect(asking, elicitation_callback=user) as client:
        refused = await client.call_tool("generate_text_video", {**TEN_SECONDS, "confirm_cost": True})
    assert refused.is_error and len(user.questions) == 1
    assert fake_fal.count("submit") == 0


async def test_reference_videos_count_towards_the_price_asked(asking: Settings, fake_fal: FakeFal):
    user = User("accept")
    call = {**CHEAP, "image_urls": ["https://example.com/a.png"], "video_urls": ["https://example.com/v.mp4"]}
    call["prompt"] = "@Image1 moves like @Video1"
    async with connect(asking, elicitation_callback=user) as client:
        done = await client.call_tool("reference_video", call)
    assert not done.is_error, text_of(done)
    # 480p 16:9 4 s alone is $0.56; 2-15 s of reference video more, all at 0.6x the rate, make $0.51-$1.60
    assert len(user.questions) == 1 and "$0.51-$1.60" in user.questions[0], user.questions
    assert "Seedance 2.0 video (reference-to-video, 480p, 4 s)" in user.questions[0]


async def test_cheap_jobs_previews_and_reused_jobs_ask_nobody(asking: Settings, fake_fal: FakeFal, tmp_path):
    async with connect(asking, elicitation_callback=User("accept")) as client:
        first = await client.call_tool("generate_text_video", TEN_SECONDS)
    user = User("decline")
    async with connect(asking, elicitation_callback=user) as client:
        again = await client.call_tool("generate_text_video", TEN_SECONDS)  # a client's retry: the same job
        cheap = await client.call_tool("generate_text_video", CHEAP)
    assert again.structured_content and again.structured_content["reused"], text_of(again)
    assert first.structured_content and again.structured_content["request_id"] == first.structured_content["request_id"]
    local = Settings(provider="local", home=tmp_path / "local-home", output_dir=None)
    async with connect(local, elicitation_callback=user) as client:
        preview = await client.call_tool("generate_text_video", {**TEN_SECONDS, "resolution": "480p", "duration": "4"})
    assert not cheap.is_error and not preview.is_error, text_of(cheap) + text_of(preview)
    assert user.questions == []


async def test_a_call_that_would_be_refused_anyway_asks_nobody(asking: Settings, fake_fal: FakeFal, tmp_path):
    user = User("accept")
    capped = dataclasses.replace(asking, max_usd_per_job=2.0)
    outside = tmp_path.parent / f"{tmp_path.name}-elsewhere.png"
    async with connect(capped, elicitation_callback=user) as client:
        above_cap = await client.call_tool("generate_text_video", TEN_SECONDS)
        bad_file = await client.call_tool("animate_image", {**CHEAP, "duration": "10", "image_url": str(outside)})
        too_many = await client.call_tool(
            "reference_video", {**CHEAP, "duration": "10", "image_urls": ["https://example.com/a.png"] * 10}
        )
    assert above_cap.is_error and "SEEDANCE_MAX_USD_PER_JOB" in text_of(above_cap)
    assert bad_file.is_error and "`image_url`" in text_of(bad_file)
    assert too_many.is_error and "at most 9" in text_of(too_many)
    assert user.questions == [] and fake_fal.count("submit") == 0
