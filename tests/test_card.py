"""The job card's server side: the tools that link it, its resource and policy, and the tools only it calls.

What the card does with them in a browser is in test_card_browser.py; here a real MCP client checks what
any host would be sent.
"""

from __future__ import annotations

import base64
import dataclasses
import re
from pathlib import Path
from typing import Any

import anyio
import numpy as np
import pytest
from mcp import StdioServerParameters
from mcp.client import advertise
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID
from PIL import Image

from server.card import CARD_URI
from server.card.video import CHUNK_BYTES
from server.media.file_urls import local_path
from server.settings import Settings
from tests.conftest import CANARY_KEY, HANG_SECONDS, RecordingClient, connect, subprocess_env, text_of
from tests.fake_fal import FakeFal, Phase
from tests.test_stdio import command

pytestmark = pytest.mark.anyio

APPS = [advertise(EXTENSION_ID, {"mimeTypes": [APP_MIME_TYPE]})]
CARD_TOOLS = ["generate_text_video", "animate_image", "reference_video", "get_job"]
APP_ONLY = ["watch_job", "video_chunk"]


async def test_over_stdio_the_job_tools_link_the_card_whose_resource_holds_its_html_and_policy(
    fake_fal: FakeFal, tmp_path: Path
):
    env = subprocess_env(
        tmp_path, FAL_KEY=CANARY_KEY, SEEDANCE_FAL_QUEUE_URL=fake_fal.url, SEEDANCE_MEDIA_ORIGINS="https://mirror.test"
    )
    async with RecordingClient(StdioServerParameters(command=command(), env=env), extensions=APPS) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        listed = {resource.uri: resource for resource in (await client.list_resources()).resources}
        contents = (await client.read_resource(CARD_URI)).contents
    for name in CARD_TOOLS:
        assert tools[name].meta == {"ui": {"resourceUri": CARD_URI}, "ui/resourceUri": CARD_URI}, name
    for name in APP_ONLY:
        assert tools[name].meta == {"ui": {"resourceUri": CARD_URI, "visibility": ["app"]}}, name
    for name in ("list_jobs", "cancel_job", "estimate_cost"):
        assert not (tools[name].meta or {}).get("ui"), name
    assert listed[CARD_URI].mime_type == APP_MIME_TYPE
    [page] = contents
    assert page.mime_type == APP_MIME_TYPE
    html = getattr(page, "text", "")
    assert html.startswith("<!doctype html>") and "<script>" in html and "</html>" in html
    assert "<script src" not in html and "<link" not in html and "@import" not in html  # nothing fetched
    assert page.meta is not None
    domains = page.meta["ui"]["csp"]["resourceDomains"]
    assert domains == ["https://fal.media", "https://*.fal.media", "https://mirror.test"]


async def test_a_client_without_mcp_apps_is_not_shown_the_tools_only_the_card_calls(settings: Settings):
    async with connect(settings) as plain, connect(settings, extensions=APPS) as rich:
        seen_by_plain = [tool.name for tool in (await plain.list_tools()).tools]
        seen_by_rich = [tool.name for tool in (await rich.list_tools()).tools]
    assert not set(APP_ONLY) & set(seen_by_plain)
    assert seen_by_rich == [*seen_by_plain, *APP_ONLY]


@pytest.mark.parametrize(
    ("keys", "origins"),
    [
        ({}, []),  # previews only: declared, and nothing beyond the default
        ({"ark_key": CANARY_KEY, "provider": "ark"}, ["https://*.bytepluses.com", "https://*.volces.com"]),
        (
            {"runflow_key": CANARY_KEY, "provider": "runflow"},
            ["https://fal.media", "https://*.fal.media", "https://*.runflow.io"],
        ),
    ],
)
async def test_the_card_may_play_video_from_the_hosts_this_server_is_set_up_for(
    settings: Settings, keys: dict[str, Any], origins: list[str] | None
):
    local = dataclasses.replace(settings, **{"fal_key": None, "provider": "local", **keys})
    async with connect(local) as client:
        [page] = (await client.read_resource(CARD_URI)).contents
    assert page.meta is not None and page.meta["ui"]["csp"] == {"resourceDomains": origins}


def test_a_media_origin_with_a_path_is_refused_at_start_naming_the_setting():
    with pytest.raises(SystemExit, match=re.escape("SEEDANCE_MEDIA_ORIGINS holds 'https://cdn.test/videos'")):
        Settings.from_env({"SEEDANCE_MEDIA_ORIGINS": "https://ok.test, https://cdn.test/videos"})


async def test_watch_job_answers_at_once_when_behind_waits_when_not_and_wakes_on_the_change(
    settings: Settings, fake_fal: FakeFal
):
    fake_fal.plan = [Phase("IN_QUEUE", None, queue_position=2)]
    async with connect(settings, extensions=APPS) as client:
        started = await client.call_tool("generate_text_video", {"prompt": "a held job", "wait_seconds": 0})
        request_id = started.structured_content["request_id"]
        first = (await client.call_tool("watch_job", {"request_id": request_id})).structured_content
        assert first is not None and first["status"] == "queued" and first["queue_position"] == 2
        assert first["arguments"]["prompt"] == "a held job" and first["version"] > 0
        unchanged = await client.call_tool(
            "watch_job", {"request_id": request_id, "seen": first["version"], "wait_seconds": 0.2}
        )
        same = unchanged.structured_content
        assert same is not None and (same["version"], same["status"]) == (first["version"], "queued")

        changed: dict[str, Any] = {}

        async def watch() -> None:
            result = await client.call_tool(
                "watch_job", {"request_id": request_id, "seen": first["version"], "wait_seconds": 50}
            )
            changed.update(result.structured_content or {})

        with anyio.fail_after(HANG_SECONDS):  # it returns because the job changed: the version shows it
            async with anyio.create_task_group() as tg:
                tg.start_soon(watch)
                fake_fal.advance(request_id)
    assert changed["status"] == "completed" and changed["version"] > first["version"]
    assert changed["video"]["url"].endswith("/output.mp4")


@pytest.mark.slow  # renders a 720p preview
async def test_video_chunk_gives_back_a_preview_byte_for_byte_in_pieces(tmp_path: Path):
    noise = tmp_path / "noise.png"  # noise does not compress: the clip takes many pieces
    pixels = np.random.default_rng(7).integers(0, 255, (720, 1280, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(noise)
    local = Settings(provider="local", home=tmp_path / "home", wait_seconds=120, allowed_dirs=(tmp_path,))
    async with connect(local, extensions=APPS) as client:
        done = await client.call_tool(
            "animate_image", {"prompt": "static", "image_url": str(noise), "duration": "4", "aspect_ratio": "16:9"}
        )
        job = done.structured_content
        assert job is not None and job["status"] == "completed", text_of(done)
        pieces, offset, total = [], 0, None
        while total is None or offset < total:
            answer = await client.call_tool("video_chunk", {"request_id": job["request_id"], "offset": offset})
            piece = answer.structured_content
            assert piece is not None and piece["offset"] == offset and piece["size"] <= CHUNK_BYTES
            pieces.append(piece["data"])
            offset, total = offset + piece["size"], piece["total_bytes"]
    path = local_path(job["video"]["url"])
    assert path is not None and len(pieces) == -(-path.stat().st_size // CHUNK_BYTES) >= 3
    assert base64.b64decode("".join(pieces)) == path.read_bytes()  # the pieces' base64 joins as it is


@pytest.mark.parametrize("ranges", [True, False], ids=["cdn-with-ranges", "cdn-without-ranges"])
async def test_video_chunk_fetches_an_unsaved_hosts_video_by_range(settings: Settings, fake_fal: FakeFal, ranges: bool):
    fake_fal.ranges = ranges
    unsaved = dataclasses.replace(settings, output_dir=None)  # SEEDANCE_DOWNLOAD=0: nothing on this machine
    async with connect(unsaved, extensions=APPS) as client:
        done = (await client.call_tool("generate_text_video", {"prompt": "kept at the host"})).structured_content
        assert done is not None and done["video"]["saved_path"] is None
        piece = (await client.call_tool("video_chunk", {"request_id": done["request_id"]})).structured_content
        past = await client.call_tool(
            "video_chunk", {"request_id": done["request_id"], "offset": len(fake_fal.video) + 1}
        )
    assert piece is not None and piece["total_bytes"] == len(fake_fal.video)
    assert base64.b64decode(piece["data"]) == fake_fal.video[:CHUNK_BYTES]
    assert past.is_error and "past the end of the video" in text_of(past)


async def test_video_chunk_of_an_unfinished_job_says_there_is_no_video_yet(settings: Settings, fake_fal: FakeFal):
    fake_fal.plan = [Phase("IN_PROGRESS", None)]
    async with connect(settings, extensions=APPS) as client:
        started = await client.call_tool("generate_text_video", {"prompt": "still going", "wait_seconds": 0})
        request_id = started.structured_content["request_id"]
        early = await client.call_tool("video_chunk", {"request_id": request_id})
        unknown = await client.call_tool("video_chunk", {"request_id": "no-such-job"})
    assert early.is_error and f"Job {request_id} has no video" in text_of(early)
    assert unknown.is_error and "No job with request_id 'no-such-job'" in text_of(unknown)
