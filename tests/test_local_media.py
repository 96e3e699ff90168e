"""Local files in media slots: checked, uploaded once, never read outside the allowed folders."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from server.settings import Settings
from tests.conftest import connect, text_of
from tests.fake_fal import FakeFal
from tests.media import picture

pytestmark = pytest.mark.anyio

PNG = picture((400, 300), (10, 150, 90), (240, 240, 240))


async def test_a_local_png_is_uploaded_once_and_sent_as_its_cdn_url(
    settings: Settings, fake_fal: FakeFal, tmp_path: Path
):
    image = tmp_path / "photos" / "start.png"
    image.parent.mkdir()
    image.write_bytes(PNG)
    async with connect(settings) as client:
        first = await client.call_tool("animate_image", {"prompt": "first take", "image_url": str(image)})
        second = await client.call_tool("animate_image", {"prompt": "second take", "image_url": image.as_uri()})
    assert not first.is_error and not second.is_error, text_of(first) + text_of(second)
    assert fake_fal.uploads == [("start.png", "image/png", PNG)]
    sent = {job.input["image_url"] for job in fake_fal.jobs.values()}
    assert sent == {f"{fake_fal.url}/cdn/files/1/start.png"}


async def test_hidden_and_outside_files_are_refused_before_anything_is_sent(
    settings: Settings, fake_fal: FakeFal, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    home = tmp_path / "home-dir"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_ed25519.png").write_bytes(PNG)  # a name can lie; the folder alone refuses it
    (home / ".hidden.png").write_bytes(PNG)
    outside = tmp_path.parent / f"{tmp_path.name}-outside.png"
    outside.write_bytes(PNG)
    monkeypatch.setenv("HOME", str(home))
    locked = dataclasses.replace(settings, allowed_dirs=(home,))
    (home / "link.png").symlink_to(home / ".ssh" / "id_ed25519.png")
    cases = {
        "~/.ssh/id_ed25519.png": "hidden or inside a hidden folder",
        "~/.ssh/no_such_key": "hidden or inside a hidden folder",  # the same answer: nothing on disk was looked at
        f"{home}/photos/../.ssh/id_ed25519.png": "hidden or inside a hidden folder",
        "~/link.png": "link.png leads to a hidden file or folder",  # where a link leads counts, and stays unsaid
        "/etc/no_such_file": "outside the folders this server may read",
        "~/.hidden.png": "hidden or inside a hidden folder",
        str(outside): "outside the folders this server may read",
        "~/missing.png": "there is no file",
    }
    async with connect(locked) as client:
        for path, words in cases.items():
            result = await client.call_tool("animate_image", {"prompt": "x", "image_url": path})
            assert result.is_error and words in text_of(result) and "`image_url`" in text_of(result), text_of(result)
            assert "id_ed25519" not in text_of(result) or "id_ed25519" in path
    outside.unlink()
    assert fake_fal.uploads == [] and fake_fal.count("submit") == 0


async def test_a_file_is_judged_by_its_bytes_and_its_size(settings: Settings, fake_fal: FakeFal, tmp_path: Path):
    fake_png = tmp_path / "notes.png"
    fake_png.write_text("just text")
    video_as_image = tmp_path / "clip.png"
    video_as_image.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(64))
    huge = tmp_path / "huge.png"
    with huge.open("wb") as handle:
        handle.write(PNG[:32])
        handle.truncate(31 * 1024 * 1024)
    async with connect(settings) as client:
        texts = [
            text_of(await client.call_tool("animate_image", {"prompt": "x", "image_url": str(path)}))
            for path in (fake_png, video_as_image, huge)
        ]
    assert "not a format the API takes" in texts[0] and "JPEG, PNG, WebP" in texts[0]
    assert "a video (video/mp4)" in texts[1]
    assert "31.0 MB, above the 30 MB" in texts[2]
    assert fake_fal.uploads == [] and fake_fal.count("submit") == 0


async def test_the_local_backend_reads_local_files_where_they_are(tmp_path: Path):
    image = tmp_path / "still.png"
    image.write_bytes(PNG)
    local = Settings(provider="local", home=tmp_path / "home", allowed_dirs=(tmp_path,))
    async with connect(local) as client:
        result = await client.call_tool(
            "animate_image", {"prompt": "x", "image_url": str(image), "resolution": "480p", "duration": "4"}
        )
    assert result.structured_content and result.structured_content["status"] == "completed", text_of(result)
    assert (result.structured_content["video"]["width"], result.structured_content["video"]["height"]) == (752, 560)
    assert os.path.exists(result.structured_content["video"]["url"].removeprefix("file://"))
