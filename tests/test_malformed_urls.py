"""Every malformed media value, in every media slot, is a sentence naming its field, and costs nothing.

These are the values a hostile run sent: line breaks, tabs and NULs inside a URL, a URL of many kilobytes,
ports 0 and 70000, a user name before the host, and a reference with a line break after it. Each once
raised past the tool ("Error executing tool animate_image") or slipped through; now each is refused before
any name is looked up, any connection made, or any host asked.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from server.settings import Settings
from server.trust import Trust
from tests.conftest import add_job, connect, text_of
from tests.fake_fal import FakeFal
from tests.networks import LoopbackOnly, Resolver

pytestmark = pytest.mark.anyio

HOST = "https://media.example.com"
MALFORMED = {
    "CR/LF": f"{HOST}/a.png\r\nX-Injected: 1",
    "LF": f"{HOST}/a\n.png",
    "tab": f"{HOST}/a\t.png",
    "NUL": f"{HOST}/a\x00.png",
    "DEL": f"{HOST}/a\x7f.png",
    "a space": f"{HOST}/a b.png",
    "8 KB and more": f"{HOST}/{'a' * 8200}.png",
    "64 KB and more": f"{HOST}/{'a' * 65600}.png",
    "port 0": "https://media.example.com:0/a.png",
    "port 70000": "https://media.example.com:70000/a.png",
    "a port that is no number": "https://media.example.com:http/a.png",
    "userinfo": "https://user:secret@media.example.com/a.png",
    "a host hidden behind userinfo": "https://media.example.com@127.0.0.1/a.png",
    "no host": "https:///a.png",
    "a NUL in a path": "/tmp/a\x00.png",
    "a line break in a file URL": "file:///tmp/a\n.png",
    "a path too long for any disk": "/" + "a" * 5000 + ".png",
}
SLOTS: dict[str, tuple[str, bool, dict[str, Any]]] = {  # the slot: its tool, whether it takes a list, what else
    "image_url": ("animate_image", False, {}),
    "end_image_url": ("animate_image", False, {"image_url": "data:image/png;base64,"}),
    "image_urls": ("reference_video", True, {}),
    "video_urls": ("reference_video", True, {"image_urls": []}),
    "audio_urls": ("reference_video", True, {"image_urls": []}),
}


def calls(value: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """The value in each media slot of each tool: (tool, the field a refusal must name, arguments)."""
    for slot, (tool, listed, rest) in SLOTS.items():
        field = f"{slot}[0]" if listed else slot
        yield tool, field, {"prompt": "@Image1 moves", **rest, slot: [value] if listed else value}


@pytest.fixture
def watched(settings: Settings) -> tuple[Trust, Resolver, LoopbackOnly]:
    resolver, network = Resolver(), LoopbackOnly()
    return Trust.of(settings, resolver=resolver, network=network), resolver, network


async def test_each_malformed_value_is_refused_naming_its_field_with_nothing_asked(
    settings: Settings, fake_fal: FakeFal, watched: tuple[Trust, Resolver, LoopbackOnly]
):
    trust, resolver, network = watched
    async with connect(settings, trust) as client:
        for case, value in MALFORMED.items():
            for tool, field, arguments in calls(value):
                result = await client.call_tool(tool, arguments)
                text = text_of(result)
                assert result.is_error, (case, field)
                assert f"`{field}`" in text and "nothing was submitted or charged" in text, (case, field, text)
                assert "Error executing tool" not in text and len(text) < 2000, (case, field, text)
    assert resolver.lookups == [] and network.asked == []
    assert fake_fal.requests == [] and fake_fal.uploads == []


async def test_a_reference_is_matched_whole(settings: Settings, fake_fal: FakeFal):
    """A line break after a reference made it match before; nothing may follow it now, not even that."""
    await add_job(settings, "own-job", "completed", {"url": f"{fake_fal.url}/video.mp4", "duration": 4.0})
    async with connect(settings) as client:
        for value, field, tool, slot, listed in (
            ("seedance://jobs/own-job/frames/last\n", "image_url", "animate_image", "image_url", False),
            ("seedance://jobs/own-job/frames/last\n", "image_urls[0]", "reference_video", "image_urls", True),
            ("seedance://jobs/own-job\n", "video_urls[0]", "reference_video", "video_urls", True),
            ("seedance://jobs/own-job/frames/last ", "image_url", "animate_image", "image_url", False),
        ):
            result = await client.call_tool(tool, {"prompt": "@Image1 moves", slot: [value] if listed else value})
            text = text_of(result)
            assert result.is_error and f"`{field}`" in text, text
            assert "is not a job reference this server knows" in text, text
    assert fake_fal.requests == []


async def test_well_formed_urls_with_a_port_and_a_query_still_pass_the_spelling(
    settings: Settings, fake_fal: FakeFal, watched: tuple[Trust, Resolver, LoopbackOnly]
):
    """The checks refuse what no host could fetch, and nothing more: these are judged further, as before."""
    trust, _, _ = watched
    async with connect(settings, trust) as client:
        for value in (f"{HOST}:8443/a.png?size=large&v=2", f"{HOST}/a%20b.png", f"{HOST}/caf%C3%A9.png"):
            result = await client.call_tool("animate_image", {"prompt": "moves", "image_url": value})
            text = text_of(result)
            assert "the URL" not in text and "control character" not in text, text
