"""Bad calls are refused with a message naming the field, what is allowed and how to fix it, and cost nothing."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from mcp.types import TextContent

from server.settings import Settings
from tests.conftest import connect, text_of
from tests.fake_fal import FakeFal
from tests.media import picture

pytestmark = pytest.mark.anyio

TEXT = {"prompt": "a cat"}
IMAGE = {"prompt": "a cat", "image_url": "https://e.com/cat.png"}
URL = "https://e.com/x"
PNG_B64 = base64.b64encode(picture((400, 300), (10, 150, 90), (240, 240, 240))).decode()
MP4_HEAD = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + bytes(64)
WAV_16MB = b"RIFF\x00\x00\x00\x01WAVEfmt " + bytes(16 * 1024 * 1024)
TMP = "<tmp>"  # replaced by the test's own folder, which the server may read

# tool, arguments, words the error must contain
BAD_CALLS: list[tuple[str, dict[str, Any], list[str]]] = [
    ("generate_text_video", {**TEXT, "duration": "3"}, ["`duration`", '"auto"', '"15"', "Fix:"]),
    ("generate_text_video", {**TEXT, "duration": "16"}, ["`duration`", '"4"']),
    ("generate_text_video", {**TEXT, "duration": 5}, ["`duration`", 'send it as the string "5"']),
    ("generate_text_video", {**TEXT, "resolution": "8k"}, ["`resolution`", '"480p", "720p", "1080p", "4k"']),
    (
        "generate_text_video",
        {**TEXT, "model": "seedance-2.0-fast", "resolution": "1080p"},
        ["`resolution`", '"480p", "720p"', '"seedance-2.0" or "seedance-2.5"'],
    ),
    ("generate_text_video", {**TEXT, "duration": "20"}, ["`duration`", '"15"', '"seedance-2.5"']),
    ("generate_text_video", {**TEXT, "seed": 7}, ["`seed`", "remove `seed`"]),
    ("generate_text_video", {**TEXT, "model": "seedance-2.0-mini", "bitrate_mode": "high"}, ["`bitrate_mode`"]),
    (
        "animate_image",
        {**TEXT, "image_url": URL, "model": "seedance-2.5", "aspect_ratio": "21:9"},
        ["`aspect_ratio`", '"auto"'],
    ),
    ("generate_text_video", {**TEXT, "aspect_ratio": "2:1"}, ["`aspect_ratio`", '"21:9"', '"9:16"']),
    ("generate_text_video", {**TEXT, "model": "turbo"}, ["`model`", '"seedance-2.0", "seedance-2.0-fast"']),
    ("generate_text_video", {"prompt": ""}, ["`prompt`", "not blank"]),
    ("generate_text_video", {"prompt": "   "}, ["`prompt`", "not blank"]),
    ("generate_text_video", {}, ["`prompt`", "is required", "add `prompt`"]),
    ("generate_text_video", {**TEXT, "seed": -1}, ["`seed`", "from 0 to 2147483647"]),
    ("generate_text_video", {**TEXT, "seed": 2**31}, ["`seed`", "from 0 to 2147483647"]),
    ("generate_text_video", {**TEXT, "generate_audio": "loud"}, ["`generate_audio`", "true or false"]),
    ("generate_text_video", {**TEXT, "wait_seconds": -1}, ["`wait_seconds`"]),
    ("generate_text_video", {**TEXT, "image_url": URL}, ["`image_url`: not a parameter", "remove it"]),
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
    ("reference_video", {**TEXT, "image_urls": [URL], "end_image_url": URL}, ["`end_image_url`: not a parameter"]),
    ("get_job", {"request_id": "no-such-job"}, ["no-such-job", "seedance://jobs"]),
    ("get_job", {}, ["`request_id`", "is required"]),
    ("estimate_cost", {"mode": "video"}, ["`mode`", '"text-to-video"']),
    ("estimate_cost", {"mode": "text-to-video", "reference_video_seconds": 5}, ["`reference_video_seconds`"]),
    ("estimate_cost", {"mode": "reference-to-video", "reference_video_seconds": 30}, ["`reference_video_seconds`"]),
    ("generate_text_video", {**TEXT, "duration": 4.5}, ["`duration`", '"4"']),
    ("generate_text_video", {**TEXT, "duration": "auto "}, ["`duration`", '"auto"']),
    ("generate_text_video", {**TEXT, "resolution": "720"}, ["`resolution`", '"720p"']),
    ("generate_text_video", {**TEXT, "aspect_ratio": "16x9"}, ["`aspect_ratio`", '"16:9"']),
    ("generate_text_video", {**TEXT, "model": ""}, ["`model`", '"seedance-2.5"']),
    ("generate_text_video", {"prompt": 123}, ["`prompt`", "a non-empty text"]),
    ("generate_text_video", {**TEXT, "seed": "abc"}, ["`seed`", "an integer"]),
    ("generate_text_video", {**TEXT, "seed": 1.5}, ["`seed`", "an integer"]),
    ("generate_text_video", {**TEXT, "end_user_id": 5}, ["`end_user_id`", "a text"]),
    ("generate_text_video", {**TEXT, "wait_seconds": 601}, ["`wait_seconds`", "from 0 to 600"]),
    ("generate_text_video", {**TEXT, "force_new": "maybe"}, ["`force_new`", "true or false"]),
    ("generate_text_video", {**TEXT, "audio_urls": [URL]}, ["`audio_urls`: not a parameter"]),
    ("generate_text_video", {**TEXT, "end_image_url": URL}, ["`end_image_url`: not a parameter"]),
    ("animate_image", {**IMAGE, "image_url": ""}, ["`image_url`", "https://"]),
    ("animate_image", {**IMAGE, "image_urls": [URL]}, ["`image_urls`: not a parameter"]),
    ("animate_image", {**IMAGE, "end_image_url": "javascript:alert(1)"}, ["`end_image_url`", "https://"]),
    ("reference_video", {**TEXT, "image_urls": URL}, ["`image_urls`", "a valid array"]),
    ("reference_video", {**TEXT, "video_urls": ["ftp://e.com/a.mp4"]}, ["`video_urls[0]`", "https://"]),
    ("reference_video", {**TEXT, "image_urls": [URL], "duration": "1"}, ["`duration`", '"auto"']),
    ("get_job", {"request_id": ""}, ["`request_id`", "non-empty"]),
    ("get_job", {"request_id": "x", "wait_seconds": -5}, ["`wait_seconds`", "from 0 to 600"]),
    ("estimate_cost", {"mode": "text-to-video", "model": "cheap"}, ["`model`", '"seedance-2.0-mini"']),
    ("estimate_cost", {"mode": "text-to-video", "duration": "20"}, ["`duration`", '"15"']),
    (
        "estimate_cost",
        {"mode": "reference-to-video", "reference_video_seconds": 1},
        ["`reference_video_seconds`", "from 1.8"],
    ),
    ("estimate_cost", {}, ["`mode`", "is required"]),
    ("estimate_cost", {"mode": "text-to-video", "prompt": "x"}, ["`prompt`: not a parameter"]),
    # Media that used to reach the host: broken, mislabelled or oversized data: URIs, plain http://.
    (
        "animate_image",
        {**IMAGE, "image_url": "data:image/png;base64,!!!notbase64"},
        ["`image_url`", "base64 data is broken", "local path or https:// URL"],
    ),
    ("animate_image", {**IMAGE, "image_url": "data:text/plain;base64,aGVsbG8="}, ["`image_url`", "not a format"]),
    ("animate_image", {**IMAGE, "image_url": f"data:text/plain;base64,{PNG_B64}"}, ["says its type is text/plain"]),
    ("animate_image", {**IMAGE, "image_url": "data:image/png;base64"}, ["`image_url`", "no comma"]),
    ("animate_image", {**IMAGE, "image_url": "data:image/png;base64,"}, ["`image_url`", "is empty"]),
    ("animate_image", {**IMAGE, "image_url": "data:image/png,%89PNX"}, ["`image_url`", "not a format"]),
    (
        "animate_image",
        {**IMAGE, "end_image_url": "data:image/png;base64," + base64.b64encode(MP4_HEAD).decode()},
        ["`end_image_url`", "a video (video/mp4)", "JPEG, PNG"],
    ),
    (
        "reference_video",
        {**TEXT, "image_urls": [URL], "audio_urls": ["data:audio/wav;base64," + base64.b64encode(WAV_16MB).decode()]},
        ["`audio_urls[0]`", "16.0 MB, above the 15 MB allowed for an audio clip"],
    ),
    (
        "reference_video",
        {**TEXT, "image_urls": [URL, "data:image/gif;base64,R0lG"]},
        ["`image_urls[1]`", "not a format"],
    ),
    ("animate_image", {**IMAGE, "image_url": "http://example.com/a.png"}, ["`image_url`", "plain http:// is refused"]),
    ("reference_video", {**TEXT, "video_urls": ["http://e.com/a.mp4"]}, ["`video_urls[0]`", "https://"]),
    # Text a host would choke on.
    ("generate_text_video", {"prompt": "x" * 100_000}, ["`prompt`", "at most 20000 characters", "shorten it"]),
    ("generate_text_video", {"prompt": "a cat\x00"}, ["`prompt`", "U+0000 at position 5", "remove it"]),
    ("generate_text_video", {"prompt": "a \x1b[31mred\x1b[0m cat"}, ["`prompt`", "U+001B"]),
    ("generate_text_video", {**TEXT, "end_user_id": "user\x07"}, ["`end_user_id`", "U+0007"]),
    # Types are strict: a string is not a number or a boolean, whatever it spells.
    ("generate_text_video", {**TEXT, "seed": "42"}, ["`seed`", "send a JSON number, not a string"]),
    ("generate_text_video", {**TEXT, "generate_audio": "yes"}, ["`generate_audio`", "send a JSON boolean"]),
    ("generate_text_video", {**TEXT, "generate_audio": "true"}, ["`generate_audio`", "true or false"]),
    ("generate_text_video", {**TEXT, "force_new": "true"}, ["`force_new`", "send a JSON boolean"]),
    ("generate_text_video", {**TEXT, "confirm_cost": 1}, ["`confirm_cost`", "true or false"]),
    ("generate_text_video", {**TEXT, "wait_seconds": "10"}, ["`wait_seconds`", "send a JSON number"]),
    ("list_jobs", {"limit": "5"}, ["`limit`", "send a JSON number"]),
    ("list_jobs", {"limit": 5.5}, ["`limit`", "an integer from 1 to 200"]),
    ("estimate_cost", {"mode": "reference-to-video", "reference_video_seconds": "5"}, ["`reference_video_seconds`"]),
    ("get_job", {"request_id": 12345}, ["`request_id`", "a non-empty text"]),
    # Every wrong field in one answer, media included, and no hint of what is on the disk.
    (
        "animate_image",
        {"prompt": "x", "image_url": f"{TMP}/.ssh/id_rsa", "end_image_url": "/etc/passwd", "duration": "3"},
        ["`image_url`: ", "hidden", "`end_image_url`: ", "outside the folders", "`duration`"],
    ),
    (
        "reference_video",
        {**TEXT, "image_urls": [f"{TMP}/nothing.png", "data:,x"], "seed": "1"},
        ["`image_urls[0]`: there is no file", "`image_urls[1]`: ", "`seed`"],
    ),
]
BAD_INPUTS_TRIED = len(BAD_CALLS)


def test_the_catalogue_holds_every_known_bad_input():
    """The README's Reliability table quotes this number."""
    assert BAD_INPUTS_TRIED == 88


def _in(folder: Path, value: Any) -> Any:
    if isinstance(value, str):
        return value.replace(TMP, str(folder))
    if isinstance(value, list):
        return [_in(folder, item) for item in value]
    return value


@pytest.mark.parametrize(("tool", "arguments", "expected"), BAD_CALLS)
async def test_a_bad_call_is_refused_before_anything_is_sent(
    settings: Settings, fake_fal: FakeFal, tool: str, arguments: dict[str, Any], expected: list[str], tmp_path: Path
):
    async with connect(settings) as client:
        result = await client.call_tool(tool, {name: _in(tmp_path, value) for name, value in arguments.items()})
    assert result.is_error
    text = "\n".join(block.text for block in result.content if isinstance(block, TextContent))
    for words in expected:
        assert words in text, f"{words!r} not in: {text}"
    assert fake_fal.count() == 0 and fake_fal.uploads == []


async def test_every_bad_field_is_named_in_one_answer(settings: Settings, fake_fal: FakeFal):
    async with connect(settings) as client:
        result = await client.call_tool("generate_text_video", {"prompt": "x", "duration": "3", "resolution": "8k"})
    text = result.content[0].text  # type: ignore[union-attr]
    assert "`duration`" in text and "`resolution`" in text
    assert "nothing was submitted or charged" in text


async def test_refusals_read_well_across_the_whole_catalogue(settings: Settings, fake_fal: FakeFal, tmp_path: Path):
    """No "a image", no "None" where a number belongs, and no echoed value longer than 80 characters."""
    import re

    async with connect(settings) as client:
        extra: list[tuple[str, dict[str, Any]]] = [
            ("reference_video", {**TEXT, "image_urls": [URL], "audio_urls": [f"data:audio/wav;base64,{PNG_B64}"]}),
            ("get_job", {"request_id": "x" * 10_000}),
            ("make_film", {"request_ids": ["a", "b"], "title": "t" * 300}),
            ("make_film", {"request_ids": ["a"]}),
        ]
        for tool, arguments in [*((t, a) for t, a, _ in BAD_CALLS), *extra]:
            result = await client.call_tool(tool, {name: _in(tmp_path, value) for name, value in arguments.items()})
            text = "\n".join(block.text for block in result.content if isinstance(block, TextContent))
            assert not re.search(r"\ba [aeiouAEIOU]", text), text
            assert not re.search(r"\b(at most|from|to|of|above) None\b", text), text
            words = (word.rstrip(".,;:)") for word in re.findall(r"[^\s`\"']+", text))  # without a sentence's stop
            assert all(len(word) <= 80 for word in words), text


async def test_a_list_too_short_or_too_long_states_both_bounds(settings: Settings, fake_fal: FakeFal):
    async with connect(settings) as client:
        short = await client.call_tool("make_film", {"request_ids": ["a"]})
        long = await client.call_tool("make_film", {"request_ids": [str(n) for n in range(21)]})
    assert "Allowed: a list of 2 to 20 items. Fix: pass at least 2 items." in text_of(short)
    assert "Allowed: a list of 2 to 20 items. Fix: pass at most 20 items." in text_of(long)
