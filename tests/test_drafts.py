"""Seedance 2.5 drafts: a cheap 480p take, then `complete_draft` renders the chosen one at 1080p.

Every call goes through a real MCP client to the fakes over HTTP. The fake fal's draft/complete takes
only a draft_id its own results handed out, with fal's 422 for anything else; the fake ModelArk takes a
`draft_task` item only alone and only for a finished draft of the same model. The prices are worked out
here from the reference's figures (lineup-2026.md §1.5, §2.5), not from the code's.
"""

from __future__ import annotations

import dataclasses
import time
from decimal import Decimal
from typing import Any

import pytest

from server.ledger.sqlite import SqliteLedger
from server.settings import Settings
from tests.conftest import connect, text_of
from tests.fake_fal import FakeFal, Phase, quick_plan
from tests.fake_hosts import FakeArk
from tests.hosts import ArkHost
from tests.test_cost_approval import User

pytestmark = pytest.mark.anyio

DRAFT = {"prompt": "a kite over dunes at dusk", "model": "seedance-2.5", "draft": True, "duration": "4"}
DAY = 86_400
LONG_WAIT = {"wait_seconds": 600}


def usd(width: int, height: int, seconds: int, rate: str) -> float:
    """fal's and ModelArk's formula: width x height x seconds x 24 / 1024 tokens, at `rate` per 1000."""
    return float(Decimal(width * height * seconds * 24) / 1024 * Decimal(rate) / 1000)


def content(result: Any) -> dict[str, Any]:
    assert result.structured_content, text_of(result)
    return dict(result.structured_content)


async def test_a_draft_on_fal_is_priced_at_480p_and_finished_at_1080p_with_one_submit_each(
    settings: Settings, fake_fal: FakeFal
):
    async with connect(settings) as client:
        fake_fal.plan = [Phase("IN_PROGRESS", None)]  # held, so that the up-front price shows
        sent = content(
            await client.call_tool("generate_text_video", {**DRAFT, "aspect_ratio": "16:9", "wait_seconds": 0})
        )
        assert sent["estimated_cost_usd"]["max"] == pytest.approx(usd(854, 480, 4, "0.0214"), abs=1e-6)
        first = fake_fal.only_job()
        assert first.endpoint == "bytedance/seedance-2.5/text-to-video"
        assert first.input["draft"] is True and first.input["resolution"] == "480p"
        fake_fal.plan = quick_plan()  # the jobs after it run through at once
        fake_fal.advance(first.request_id)
        made = content(await client.call_tool("get_job", {"request_id": sent["request_id"]}))
        assert made["status"] == "completed" and made["draft_id"] == f"draft-{first.request_id}"
        expires = made["draft_expires_at"]
        final_price = usd(1920, 1080, 4, "0.0234")  # the higher of fal's two figures, 0.0214 and 0.0234
        assert "complete_draft" in made["next_step"] and f"${final_price:.2f}" in made["next_step"]
        assert expires[:10] in made["next_step"]

        done = await client.call_tool("complete_draft", {"request_id": made["request_id"]})
        final = content(done)
        assert not done.is_error and final["status"] == "completed", text_of(done)
        assert fake_fal.count("submit") == 2 and fake_fal.refused == []
        finish = fake_fal.job(final["request_id"])
        assert finish.endpoint == "bytedance/seedance-2.5/draft/complete"
        assert finish.input == {"draft_id": made["draft_id"], "resolution": "1080p"}
        assert final["draft_of"] == made["request_id"] and final["model"] == "seedance-2.5"
        assert made["finish_price_usd"] == {"min": final_price, "max": final_price}
        clip = round(
            usd(864, 496, 4, "0.0234"), 6
        )  # once made, a job costs the video it made: the fake's clip at 1080p
        assert final["estimated_cost_usd"] == {"min": clip, "max": clip}
        assert final["draft_id"] is None and final["video"]["saved_path"]

        again = await client.call_tool("complete_draft", {"request_id": made["request_id"]})
        assert content(again)["request_id"] == final["request_id"] and content(again)["reused"]
        finish_of_finish = await client.call_tool("complete_draft", {"request_id": final["request_id"]})
        assert finish_of_finish.is_error and "already the 1080p finish of the draft" in text_of(finish_of_finish)
    assert fake_fal.count("submit") == 2  # a draft is finished once, however often it is asked


async def test_a_draft_on_modelark_is_finished_by_its_draft_task(settings: Settings, fake_ark_server: FakeArk):
    fake_ark_server.reset()
    ark = ArkHost(fake_ark_server).settings(settings)
    async with connect(ark) as client:
        made = content(await client.call_tool("reference_video", {**DRAFT, "image_urls": ["https://e.com/a.png"]}))
        draft_task = fake_ark_server.only_job()
        assert draft_task.body["draft"] is True and draft_task.body["model"] == "dreamina-seedance-2-5-260628"
        assert made["draft_id"] == draft_task.id  # ModelArk finishes a draft by its task id
        done = await client.call_tool("complete_draft", {"request_id": made["request_id"]})
    final = content(done)
    assert final["status"] == "completed" and final["draft_of"] == made["request_id"], text_of(done)
    assert fake_ark_server.count("submit") == 2
    body = fake_ark_server.jobs[final["request_id"]].body
    assert body["draft_task_id"] == draft_task.id and body["resolution"] == "1080p"
    ratio = made["video"]["width"] / made["video"]["height"]
    assert ratio == pytest.approx(16 / 9, rel=0.05)  # "auto" came back 16:9 from the fake, so 1920x1080
    assert made["finish_price_usd"]["max"] == pytest.approx(usd(1920, 1080, 4, "0.0117"), abs=1e-6)


async def test_only_a_finished_live_draft_of_ones_own_is_finished_and_refusals_cost_nothing(
    settings: Settings, fake_fal: FakeFal
):
    async with connect(settings) as client:
        made = content(await client.call_tool("generate_text_video", DRAFT))
        plain = content(await client.call_tool("generate_text_video", {**DRAFT, "draft": False}))
        fake_fal.plan = [Phase("IN_PROGRESS", None, log="drawing")]  # held until the test lets it go
        running = content(await client.call_tool("generate_text_video", {**DRAFT, "prompt": "x", "wait_seconds": 0}))
        ledger = SqliteLedger(settings.ledger_path)
        await ledger.update(made["request_id"], finished_at=time.time() - 7 * DAY - 60)
        await ledger.close()
        refused = {
            "unknown": await client.call_tool("complete_draft", {"request_id": "no-such-draft"}),
            "expired": await client.call_tool("complete_draft", {"request_id": made["request_id"]}),
            "not a draft": await client.call_tool("complete_draft", {"request_id": plain["request_id"]}),
            "running": await client.call_tool("complete_draft", {"request_id": running["request_id"]}),
        }
        expired_view = content(await client.call_tool("get_job", {"request_id": made["request_id"]}))
    assert fake_fal.count("submit") == 3 and fake_fal.refused == []  # the three jobs above, nothing more
    words = {
        "unknown": "No job with request_id 'no-such-draft'",
        "expired": "expired on",
        "not a draft": "is not a draft: it was made without draft=true",
        "running": "is still being made",
    }
    for case, result in refused.items():
        assert result.is_error and words[case] in text_of(result), (case, text_of(result))
    assert "make a new draft" in text_of(refused["expired"])
    assert expired_view["next_step"] is None  # an expired draft no longer offers its completion


@pytest.mark.parametrize("model", ["seedance-2.0", "seedance-2.0-fast", "seedance-2.0-mini"])
async def test_only_seedance_2_5_makes_drafts(settings: Settings, fake_fal: FakeFal, model: str):
    async with connect(settings) as client:
        result = await client.call_tool("generate_text_video", {**DRAFT, "model": model})
    assert result.is_error and fake_fal.count() == 0
    assert "`draft`" in text_of(result) and 'model "seedance-2.5"' in text_of(result), text_of(result)


@pytest.mark.slow  # renders a 1080p preview
async def test_the_offline_preview_finishes_a_draft_at_1080p_with_the_drafts_length_and_shape(
    settings: Settings, fake_fal: FakeFal
):
    local = dataclasses.replace(settings, fal_key=None, provider="local")
    async with connect(local) as client:
        # Each call returns when its render ends: 600 s is a bound on a busy machine, not a wait.
        made = content(await client.call_tool("generate_text_video", {**DRAFT, "duration": "auto", **LONG_WAIT}))
        final = content(await client.call_tool("complete_draft", {"request_id": made["request_id"], **LONG_WAIT}))
    assert made["preview"] and (made["video"]["width"], made["video"]["height"])[1] in (480, 496)
    assert final["status"] == "completed" and final["draft_of"] == made["request_id"]
    shape = made["video"]["width"] / made["video"]["height"]
    assert final["video"]["height"] >= 1080 or final["video"]["width"] >= 1080
    assert final["video"]["width"] / final["video"]["height"] == pytest.approx(shape, rel=0.05)
    assert final["video"]["duration"] == pytest.approx(made["video"]["duration"], abs=0.1)
    assert fake_fal.count() == 0


@pytest.mark.parametrize("mode", ["2026-07-28", "legacy"])
async def test_finishing_a_draft_asks_the_user_its_price_and_a_no_costs_nothing(
    settings: Settings, fake_fal: FakeFal, mode: str
):
    asking = dataclasses.replace(settings, confirm_above_usd=1.0)  # the shipped threshold: the draft itself is below
    no, yes = User("decline"), User("accept")
    async with connect(asking, mode=mode, elicitation_callback=no) as client:
        made = content(await client.call_tool("generate_text_video", {**DRAFT, "aspect_ratio": "16:9"}))
        declined = await client.call_tool("complete_draft", {"request_id": made["request_id"]})
    assert declined.is_error and fake_fal.count("submit") == 1  # the draft alone
    assert "the draft itself is already made" in text_of(declined) and "mini" not in text_of(declined)
    async with connect(asking, mode=mode, elicitation_callback=yes) as client:
        finished = content(await client.call_tool("complete_draft", {"request_id": made["request_id"]}))
    price = f"${usd(1920, 1080, 4, '0.0234'):.2f}"
    assert no.questions == [
        f"Finish this Seedance 2.5 draft at 1080p (4 s)? It costs {price} at most (the host's price at this size is "
        "unconfirmed), billed to your account."
    ]
    assert yes.questions == no.questions and finished["status"] == "completed"
    assert fake_fal.count("submit") == 2
