"""Finished videos are kept: saved with a sidecar, served as a resource, and shown as a poster frame."""

from __future__ import annotations

import base64
import dataclasses
import io
import json
from pathlib import Path

import pytest
from mcp.types import BlobResourceContents, ImageContent, ResourceLink
from PIL import Image

from server.settings import Settings
from tests.conftest import connect, text_of
from tests.fake_fal import FakeFal
from tests.media import probe

pytestmark = pytest.mark.anyio


async def test_a_finished_fal_job_leaves_an_mp4_and_its_sidecar_and_shows_a_poster(
    settings: Settings, fake_fal: FakeFal
):
    async with connect(settings) as client:
        result = await client.call_tool("generate_text_video", {"prompt": "A Lighthouse, in a storm!"})
        assert result.structured_content is not None, text_of(result)
        request_id = result.structured_content["request_id"]
        blob = (await client.read_resource(f"seedance://jobs/{request_id}/video")).contents[0]
    assert settings.output_dir is not None
    (saved,) = settings.output_dir.glob("*.mp4")
    assert saved.name.endswith(" a-lighthouse-in-a-storm.mp4") and saved.read_bytes() == fake_fal.video
    sidecar = json.loads(saved.with_suffix(".json").read_text())
    assert sidecar["request_id"] == request_id and sidecar["seed"] == 1094575694
    assert sidecar["prompt"] == "A Lighthouse, in a storm!" and sidecar["source_url"].endswith("/output.mp4")
    assert sidecar["estimated_cost_usd"]["max"] > 0
    assert probe(saved).codecs == {"video": "h264", "audio": "aac"}

    links = [block.uri for block in result.content if isinstance(block, ResourceLink)]
    assert links == [result.structured_content["video"]["url"], saved.as_uri()]
    (poster,) = [block for block in result.content if isinstance(block, ImageContent)]
    jpeg = base64.b64decode(poster.data)
    assert poster.mime_type == "image/jpeg" and len(jpeg) <= 200 * 1024
    assert Image.open(io.BytesIO(jpeg)).size[0] <= 640
    assert isinstance(blob, BlobResourceContents) and base64.b64decode(blob.blob) == fake_fal.video


async def test_download_off_keeps_no_copy_but_still_links_the_video(settings: Settings, fake_fal: FakeFal):
    async with connect(dataclasses.replace(settings, output_dir=None)) as client:
        result = await client.call_tool("generate_text_video", {"prompt": "not saved"})
    assert result.structured_content and result.structured_content["video"]["saved_path"] is None
    assert [b.uri for b in result.content if isinstance(b, ResourceLink)] == [result.structured_content["video"]["url"]]
    assert not [b for b in result.content if isinstance(b, ImageContent)]


async def test_a_preview_result_carries_a_poster_too(tmp_path: Path):
    local = Settings(provider="local", home=tmp_path / "home")
    async with connect(local) as client:
        result = await client.call_tool(
            "generate_text_video", {"prompt": "poster", "resolution": "480p", "duration": "4"}
        )
    assert [b.mime_type for b in result.content if isinstance(b, ImageContent)] == ["image/jpeg"]
