"""The lineup as the hosts sell it: one `model` parameter, what each model takes and where it goes.

Every call here goes through a real MCP client to the fakes over HTTP. The fake fal refuses a body its
endpoint's schema does not take (tests/fal_schemas.py), so a call it accepted sent only what that
endpoint documents. Prices are in test_model_prices.py.
"""

from __future__ import annotations

import base64
import dataclasses
from typing import Any

import pytest

from server.settings import Settings
from tests.conftest import connect, text_of
from tests.fake_fal import FakeFal
from tests.fake_hosts import LAST_FRAME, FakeArk, FakeRunflow
from tests.hosts import ArkHost, RunflowHost

pytestmark = pytest.mark.anyio

MODELS = ["seedance-2.0", "seedance-2.0-fast", "seedance-2.0-mini", "seedance-2.5"]
GENERATION_TOOLS = ["generate_text_video", "animate_image", "reference_video"]
IMAGE = "https://e.com/still.png"
VIDEO = "https://e.com/clip.mp4"
AUDIO = "https://e.com/a.mp3"
CALLS: dict[str, tuple[str, dict[str, Any]]] = {
    "generate_text_video": ("text-to-video", {}),
    "animate_image": ("image-to-video", {"image_url": IMAGE}),
    "reference_video": ("reference-to-video", {"image_urls": [IMAGE]}),
}


def unbounded(settings: Settings) -> Settings:
    """No cap and no question: these tests are about what is sent, not about what it costs."""
    return dataclasses.replace(settings, max_usd_per_job=10_000, confirm_above_usd=10_000)


async def test_every_generation_tool_and_estimate_cost_take_one_model_of_four(settings: Settings):
    async with connect(settings) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    for name in [*GENERATION_TOOLS, "estimate_cost"]:
        properties = tools[name].input_schema["properties"]
        assert properties["model"]["enum"] == MODELS and properties["model"]["default"] == "seedance-2.0", name
        assert "tier" not in properties
        assert properties["resolution"]["enum"] == ["480p", "720p", "1080p", "4k"]
        assert properties["duration"]["enum"][-1] == "30" and len(properties["duration"]["enum"]) == 28
    references = tools["reference_video"].input_schema["properties"]
    assert (references["image_urls"]["maxItems"], references["video_urls"]["maxItems"]) == (30, 10)
    assert references["task"]["anyOf"][0]["enum"] == ["reference", "editing", "extension"]


# What each model takes at its largest, by tool: the endpoint it must reach on fal.
LARGEST = {
    "seedance-2.0": ("bytedance/seedance-2.0", {"resolution": "4k", "duration": "15", "bitrate_mode": "high"}),
    "seedance-2.0-fast": ("bytedance/seedance-2.0/fast", {"resolution": "720p", "duration": "15", "codec": "H265"}),
    "seedance-2.0-mini": ("bytedance/seedance-2.0/mini", {"resolution": "720p", "duration": "15", "codec": "H264"}),
    "seedance-2.5": ("bytedance/seedance-2.5", {"resolution": "1080p", "duration": "30", "bitrate_mode": "high"}),
}


@pytest.mark.parametrize("tool", GENERATION_TOOLS)
@pytest.mark.parametrize("model", MODELS)
async def test_each_model_reaches_its_endpoint_on_fal_with_a_body_that_endpoint_takes(
    settings: Settings, fake_fal: FakeFal, model: str, tool: str
):
    app, largest = LARGEST[model]
    mode, media = CALLS[tool]
    call = {"prompt": "a lighthouse in a storm", "model": model, **media, **largest, "wait_seconds": 0}
    async with connect(unbounded(settings)) as client:
        result = await client.call_tool(tool, call)
    assert not result.is_error, text_of(result)
    assert fake_fal.refused == []
    job = fake_fal.only_job()
    assert job.endpoint == f"{app}/{mode}"
    assert {k: job.input[k] for k in largest} == largest  # nothing the caller gave was dropped
    assert "model" not in job.input and "seed" not in job.input


REFUSED: list[tuple[str, str, dict[str, Any], list[str]]] = [
    ("seedance-2.0-fast", "generate_text_video", {"resolution": "1080p"}, ['"480p", "720p"', '"seedance-2.0"']),
    ("seedance-2.0-mini", "generate_text_video", {"resolution": "4k"}, ['"480p", "720p"', '"seedance-2.0"']),
    ("seedance-2.5", "generate_text_video", {"resolution": "4k"}, ['"480p", "720p", "1080p"']),
    ("seedance-2.0", "generate_text_video", {"duration": "20"}, ['"4" to "15"', '"seedance-2.5"']),
    ("seedance-2.0-mini", "animate_image", {"duration": "16"}, ['"4" to "15"']),
    ("seedance-2.5", "animate_image", {"aspect_ratio": "21:9"}, ["`aspect_ratio`", '"auto"']),
    ("seedance-2.0", "generate_text_video", {"seed": 7}, ["`seed`", "remove `seed`"]),
    ("seedance-2.5", "generate_text_video", {"seed": 7}, ["`seed`", "remove `seed`"]),
    ("seedance-2.0-mini", "generate_text_video", {"bitrate_mode": "high"}, ["`bitrate_mode`", '"seedance-2.0"']),
    ("seedance-2.0", "reference_video", {"task": "editing", "video_urls": [VIDEO]}, ["`task`", '"seedance-2.5"']),
    ("seedance-2.5", "reference_video", {"task": "editing"}, ["`video_urls`", 'task "editing"']),
    (
        "seedance-2.5",
        "reference_video",
        {"task": "editing", "video_urls": [VIDEO], "duration": "5"},
        ["`duration`", '"auto"'],
    ),
    (
        "seedance-2.5",
        "reference_video",
        {"task": "extension", "video_urls": [VIDEO], "aspect_ratio": "16:9"},
        ["`aspect_ratio`", '"auto"'],
    ),
    ("seedance-2.0", "reference_video", {"image_urls": [IMAGE] * 10}, ["`image_urls`", "at most 9"]),
    ("seedance-2.0-fast", "reference_video", {"video_urls": [VIDEO] * 4}, ["`video_urls`", "at most 3"]),
    ("seedance-2.5", "reference_video", {"image_urls": [IMAGE] * 31}, ["`image_urls`", "at most 30"]),
    (
        "seedance-2.0",
        "reference_video",
        {"image_urls": [IMAGE] * 9, "video_urls": [VIDEO] * 2, "audio_urls": ["https://e.com/a.mp3"] * 2},
        ["13 files in all", "at most 12"],
    ),
    (
        "seedance-2.0-mini",
        "reference_video",
        {"image_urls": [], "audio_urls": ["https://e.com/a.mp3"]},
        ["`audio_urls`", "image or video", '"seedance-2.5"'],
    ),
    # The rest of each model's refusals on fal, so that every model meets every kind it has (§1.1-§1.3); 2.5's
    # 50 files in all is its 30 + 10 + 10, so no call breaks it alone.
    ("seedance-2.0-fast", "generate_text_video", {"resolution": "4k"}, ['"480p", "720p"']),
    ("seedance-2.0-mini", "animate_image", {"resolution": "1080p"}, ['"480p", "720p"']),
    ("seedance-2.0-fast", "reference_video", {"duration": "16"}, ['"4" to "15"']),
    ("seedance-2.0-fast", "generate_text_video", {"seed": 1}, ["`seed`"]),
    ("seedance-2.0-mini", "reference_video", {"seed": 1}, ["`seed`"]),
    ("seedance-2.5", "animate_image", {"seed": 1}, ["`seed`", "remove `seed`"]),
    ("seedance-2.0-fast", "reference_video", {"task": "reference"}, ["`task`", '"seedance-2.5"']),
    ("seedance-2.0-mini", "reference_video", {"task": "extension", "video_urls": [VIDEO]}, ["`task`"]),
    ("seedance-2.0", "reference_video", {"audio_urls": [AUDIO] * 4}, ["`audio_urls`", "at most 3"]),
    ("seedance-2.0-mini", "reference_video", {"image_urls": [IMAGE] * 10}, ["`image_urls`", "at most 9"]),
    ("seedance-2.5", "reference_video", {"video_urls": [VIDEO] * 11}, ["`video_urls`", "at most 10"]),
    ("seedance-2.5", "reference_video", {"audio_urls": [AUDIO] * 11}, ["`audio_urls`", "at most 10"]),
    (
        "seedance-2.0-fast",
        "reference_video",
        {"image_urls": [IMAGE] * 8, "video_urls": [VIDEO] * 3, "audio_urls": [AUDIO] * 2},
        ["13 files in all", "at most 12"],
    ),
]


@pytest.mark.parametrize(("model", "tool", "given", "words"), REFUSED)
async def test_a_value_the_model_does_not_take_is_refused_before_anything_is_sent(
    settings: Settings, fake_fal: FakeFal, model: str, tool: str, given: dict[str, Any], words: list[str]
):
    _, media = CALLS[tool]
    call = {"prompt": "a lighthouse", "model": model, **media, **given}
    async with connect(unbounded(settings)) as client:
        result = await client.call_tool(tool, call)
    text = text_of(result)
    assert result.is_error and text.startswith(f"Invalid arguments for {tool}; nothing was submitted or charged.")
    assert all(word in text for word in words), text
    assert fake_fal.count("submit") == 0 and fake_fal.uploads == []


async def test_seedance_2_5_takes_a_seed_and_a_task_for_reference_video_on_fal(settings: Settings, fake_fal: FakeFal):
    call = {"prompt": "cut @Video1 shorter", "model": "seedance-2.5", "video_urls": [VIDEO], "task": "editing"}
    async with connect(unbounded(settings)) as client:
        result = await client.call_tool("reference_video", {**call, "seed": 42, "wait_seconds": 0})
    assert not result.is_error, text_of(result)
    job = fake_fal.only_job()
    assert job.endpoint == "bytedance/seedance-2.5/reference-to-video"
    assert (job.input["seed"], job.input["task"]) == (42, "editing")


@pytest.mark.parametrize(
    ("model", "model_id"),
    [
        ("seedance-2.0", "dreamina-seedance-2-0-260128"),
        ("seedance-2.0-fast", "dreamina-seedance-2-0-fast-260128"),
        ("seedance-2.0-mini", "dreamina-seedance-2-0-mini-260615"),
        ("seedance-2.5", "dreamina-seedance-2-5-260628"),
    ],
)
async def test_each_model_is_its_own_model_id_on_modelark(
    settings: Settings, fake_ark_server: FakeArk, model: str, model_id: str
):
    fake_ark_server.reset()
    host = ArkHost(fake_ark_server)
    call = {"prompt": "a lighthouse", "model": model, "resolution": "720p", "duration": "6", "seed": 3}
    async with connect(unbounded(host.settings(settings))) as client:
        result = await client.call_tool("generate_text_video", {**call, "wait_seconds": 0})
    assert not result.is_error, text_of(result)
    body = fake_ark_server.only_job().body
    assert (body["model"], body["resolution"], body["duration"], body["seed"]) == (model_id, "720p", 6, 3)


async def test_modelark_names_the_task_in_its_own_words(settings: Settings, fake_ark_server: FakeArk):
    fake_ark_server.reset()
    host = ArkHost(fake_ark_server)
    call = {"prompt": "go on from @Video1", "model": "seedance-2.5", "video_urls": [VIDEO], "task": "extension"}
    async with connect(unbounded(host.settings(settings))) as client:
        result = await client.call_tool("reference_video", {**call, "wait_seconds": 0})
    assert not result.is_error, text_of(result)
    body = fake_ark_server.only_job().body
    assert (body["omni_reference_task_type"], body["ratio"]) == ("extend", "adaptive")


async def test_runflow_sells_2_0_up_to_1080p_and_no_other_model(settings: Settings, fake_runflow_server: FakeRunflow):
    fake_runflow_server.reset()
    host = RunflowHost(fake_runflow_server)
    async with connect(unbounded(host.settings(settings))) as client:
        done = await client.call_tool(
            "generate_text_video", {"prompt": "a kite", "resolution": "1080p", "wait_seconds": 0}
        )
        four_k = await client.call_tool("generate_text_video", {"prompt": "a kite", "resolution": "4k"})
        mini = await client.call_tool("generate_text_video", {"prompt": "a kite", "model": "seedance-2.0-mini"})
        codec = await client.call_tool("generate_text_video", {"prompt": "a kite", "codec": "H265"})
    assert not done.is_error, text_of(done)
    assert fake_runflow_server.only_job().body["input"]["resolution"] == "1080p"
    assert four_k.is_error and '"480p", "720p", "1080p"' in text_of(four_k)
    assert mini.is_error and "Runflow does not sell Seedance 2.0 mini" in text_of(mini)
    assert codec.is_error and "`codec`" in text_of(codec)
    assert fake_runflow_server.count("submit") == 1


async def test_only_seedance_2_5_may_animate_or_follow_references_without_a_prompt(
    settings: Settings, fake_fal: FakeFal, fake_ark_server: FakeArk
):
    async with connect(unbounded(settings)) as client:
        refused = await client.call_tool("animate_image", {"image_url": IMAGE})
        done = await client.call_tool("animate_image", {"image_url": IMAGE, "model": "seedance-2.5", "wait_seconds": 0})
    assert refused.is_error and "`prompt`: missing: Seedance 2.0 needs a prompt" in text_of(refused)
    assert not done.is_error, text_of(done)
    assert "prompt" not in fake_fal.only_job().input
    fake_ark_server.reset()
    call = {"model": "seedance-2.5", "image_urls": [IMAGE], "wait_seconds": 0}
    async with connect(unbounded(ArkHost(fake_ark_server).settings(settings))) as client:
        result = await client.call_tool("reference_video", call)
    assert not result.is_error, text_of(result)
    content = fake_ark_server.only_job().body["content"]
    assert [item["type"] for item in content] == ["image_url"]


@pytest.mark.parametrize("kept", [True, False])
async def test_a_shot_after_a_modelark_job_starts_on_the_frame_modelark_drew(
    settings: Settings, fake_ark_server: FakeArk, kept: bool
):
    """ModelArk returns its own PNG of the last frame (return_last_frame), kept 24 h: the next shot starts on it
    as it is. Once its link is gone, the frame is decoded from the video instead."""
    fake_ark_server.reset()
    fake_ark_server.last_frames_kept = kept
    ark = ArkHost(fake_ark_server).settings(settings)
    async with connect(ark) as client:
        first = await client.call_tool("generate_text_video", {"prompt": "a lighthouse", "duration": "4"})
        job = (first.structured_content or {})["request_id"]
        assert fake_ark_server.jobs[job].body["return_last_frame"] is True
        frame = f"seedance://jobs/{job}/frames/last"
        second = await client.call_tool("animate_image", {"prompt": "on", "image_url": frame, "wait_seconds": 0})
    assert not second.is_error, text_of(second)
    (sent,) = [j for j in fake_ark_server.jobs.values() if j.id != job]
    image = sent.body["content"][1]["image_url"]["url"]
    png = base64.b64decode(image.split(",", 1)[1])
    assert png.startswith(b"\x89PNG") and (png == LAST_FRAME) is kept
    assert fake_ark_server.downloads.count(f"/files/{job}/last_frame.png") == 1
