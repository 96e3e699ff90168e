"""The installed `seedance-mcp` command, driven over stdio exactly as a desktop client starts it."""

from __future__ import annotations

import base64
import json
import shutil
import sys
from pathlib import Path
from typing import Any, TextIO

import pytest
from mcp import StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.types import ResourceLink

from tests.conftest import CANARY_KEY, ProgressLog, RecordingClient, subprocess_env
from tests.fake_fal import FakeFal, Phase

pytestmark = [pytest.mark.anyio, pytest.mark.slow]  # a server in its own process

GENERATION_TOOLS = ["generate_text_video", "animate_image", "reference_video"]
DURATIONS = ["auto", *[str(n) for n in range(4, 31)]]


def command() -> str:
    found = shutil.which("seedance-mcp", path=str(Path(sys.executable).parent)) or shutil.which("seedance-mcp")
    assert found, "the seedance-mcp console script is not installed"
    return found


def stdio_server(fake: FakeFal, home: Path, errlog: TextIO) -> Any:
    env = subprocess_env(
        home.parent,
        FAL_KEY=CANARY_KEY,
        SEEDANCE_FAL_QUEUE_URL=fake.url,
        SEEDANCE_HOME=str(home),
        SEEDANCE_HEARTBEAT_SECONDS="0.2",
        SEEDANCE_LOG_LEVEL="DEBUG",
    )
    return stdio_client(StdioServerParameters(command=command(), env=env), errlog=errlog)


def prop(schema: dict[str, Any], name: str) -> dict[str, Any]:
    value = dict(schema["properties"][name])
    for option in value.pop("anyOf", []):
        if option.get("type") != "null":
            value.update(option)
    return value


async def test_tools_list_over_stdio_mirrors_the_api(fake_fal: FakeFal, tmp_path: Path):
    with (tmp_path / "stderr.log").open("w") as errlog:
        async with RecordingClient(stdio_server(fake_fal, tmp_path / "home", errlog)) as client:
            tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert list(tools) == [
        *GENERATION_TOOLS,
        "complete_draft",
        *["get_job", "list_jobs", "cancel_job", "estimate_cost", "inspect_video", "make_film", "list_films"],
    ]
    for name in GENERATION_TOOLS:
        schema = tools[name].input_schema
        assert (
            prop(schema, "resolution")["enum"] == ["480p", "720p", "1080p", "4k"]
            and prop(schema, "resolution")["default"] == "720p"
        )
        assert prop(schema, "duration")["enum"] == DURATIONS and prop(schema, "duration")["default"] == "auto"
        assert prop(schema, "aspect_ratio")["enum"] == ["auto", "21:9", "16:9", "4:3", "1:1", "3:4", "9:16"]
        models = ["seedance-2.0", "seedance-2.0-fast", "seedance-2.0-mini", "seedance-2.5"]
        assert prop(schema, "model")["enum"] == models and prop(schema, "model")["default"] == "seedance-2.0"
        assert "tier" not in schema["properties"]
        assert prop(schema, "generate_audio")["default"] is True
        assert prop(schema, "seed")["maximum"] == 2**31 - 1
        assert all(p.get("description") for p in schema["properties"].values()), name
        output, hints = tools[name].output_schema, tools[name].annotations
        assert output is not None and "request_id" in output["properties"]
        assert hints is not None and hints.open_world_hint is True and hints.idempotent_hint is False
    reference = tools["reference_video"].input_schema
    assert [prop(reference, f)["maxItems"] for f in ("image_urls", "video_urls", "audio_urls")] == [30, 10, 10]
    assert "@Image1" in (tools["reference_video"].description or "")
    assert prop(tools["generate_text_video"].input_schema, "draft")["default"] is False
    assert tools["complete_draft"].input_schema["required"] == ["request_id"]
    assert tools["animate_image"].input_schema["required"] == ["image_url"]  # seedance-2.5 needs no prompt
    assert prop(tools["estimate_cost"].input_schema, "mode")["enum"] == [
        "text-to-video",
        "image-to-video",
        "reference-to-video",
    ]
    for name in ("get_job", "list_jobs", "estimate_cost"):
        hints = tools[name].annotations
        assert hints is not None and hints.read_only_hint is True
        assert tools[name].output_schema


async def test_a_job_over_stdio_survives_a_server_restart(fake_fal: FakeFal, tmp_path: Path):
    fake_fal.plan = [Phase("IN_QUEUE", 0.05, queue_position=2), Phase("IN_PROGRESS", None, log="rendering")]
    progress = ProgressLog()
    log_path = tmp_path / "stderr.log"
    with log_path.open("w") as errlog:
        async with RecordingClient(stdio_server(fake_fal, tmp_path / "home", errlog)) as client:
            first = await client.call_tool(
                "generate_text_video", {"prompt": "a storm", "wait_seconds": 1}, progress_callback=progress
            )
        # leaving the block closes stdin and ends the server with the job still generating
        assert first.structured_content and first.structured_content["status"] == "in_progress"
        request_id = first.structured_content["request_id"]
        fake_fal.advance(request_id)
        async with RecordingClient(stdio_server(fake_fal, tmp_path / "home", errlog)) as client:
            second = await client.call_tool("get_job", {"request_id": request_id})
    assert any(m and m.startswith("queued, position 2") for m in progress.messages)
    assert any(m and m.startswith("generating") for m in progress.messages)
    assert second.structured_content and second.structured_content["status"] == "completed"
    assert [b.mime_type for b in second.content if isinstance(b, ResourceLink)] == ["video/mp4", "video/mp4"]
    log = log_path.read_text()
    assert "submitted to fal" in log and CANARY_KEY not in log


async def test_with_no_key_shots_chain_and_join_into_a_film_over_stdio(tmp_path: Path):
    """Three free preview shots, each from the last frame of the one before, checked, then joined."""
    env = subprocess_env(tmp_path, SEEDANCE_WAIT_SECONDS="600")
    params = StdioServerParameters(command=command(), env=env)
    shots: list[dict[str, Any]] = []
    with (tmp_path / "stderr.log").open("w") as errlog:
        async with RecordingClient(stdio_client(params, errlog=errlog)) as client:
            first = {"prompt": "A lighthouse at dusk, slow push-in", "resolution": "480p", "duration": "4"}
            result = await client.call_tool("generate_text_video", first)
            for prompt in ("The beam sweeps the sea, pan right", "Rain begins, zoom out"):
                assert result.structured_content is not None and result.structured_content["status"] == "completed"
                shots.append(result.structured_content)
                image = f"seedance://jobs/{shots[-1]['request_id']}/frames/last"
                arguments = {"prompt": prompt, "image_url": image, "resolution": "480p", "duration": "4"}
                result = await client.call_tool("animate_image", arguments)
            assert result.structured_content is not None and result.structured_content["status"] == "completed"
            shots.append(result.structured_content)
            ids = [shot["request_id"] for shot in shots]
            inspected = await client.call_tool("inspect_video", {"request_id": ids[1]})
            made = await client.call_tool("make_film", {"request_ids": ids, "title": "Lighthouse"})
            film = made.structured_content
            assert film is not None, made
            blob = (await client.read_resource(film["film_uri"])).contents[0]
    assert all(shot["preview"] for shot in shots)
    assert any(block.type == "image" and block.mime_type == "image/jpeg" for block in inspected.content)
    saved = Path(film["saved_path"])
    assert saved.parent == tmp_path / "home" / "previews"  # a film of previews alone stays beside them
    assert saved.with_suffix(".json").is_file()
    assert film["duration"] == pytest.approx(12.0, abs=3 / 24)
    assert json.loads(saved.with_suffix(".json").read_text())["film_id"] == film["film_id"]
    assert base64.b64decode(getattr(blob, "blob", "")) == saved.read_bytes()
