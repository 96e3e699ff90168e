"""What teaches the model to use the server well: instructions, prompts, and warnings in results."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp.types import TextContent

from server.settings import Settings
from tests.conftest import connect, text_of
from tests.media import picture

pytestmark = pytest.mark.anyio


@pytest.fixture
def local(tmp_path: Path) -> Settings:
    return Settings(provider="local", home=tmp_path / "home", allowed_dirs=(tmp_path,), output_dir=None)


async def test_the_instructions_teach_the_flow(local: Settings):
    async with connect(local) as client:
        instructions = client.instructions or ""
    for step in ("estimate_cost", "get_job", "force_new", "seedance_prompt", "@Image1", "confirm"):
        assert step in instructions, step


async def test_the_prompt_for_an_idea_names_what_a_seedance_prompt_needs(local: Settings):
    async with connect(local) as client:
        listed = {prompt.name: prompt for prompt in (await client.list_prompts()).prompts}
        got = await client.get_prompt("seedance_prompt", {"idea": "a fox crossing a snowy road"})
    assert set(listed) == {"seedance_prompt", "reference_prompt"}
    assert [a.name for a in listed["seedance_prompt"].arguments or []] == ["idea"]
    text = got.messages[0].content
    assert isinstance(text, TextContent)
    assert "a fox crossing a snowy road" in text.text
    for part in ("Subject", "Action", "Camera", "Light", "Sound", "double quotes", "estimate_cost"):
        assert part in text.text, part


async def test_the_reference_prompt_names_each_reference_it_was_given(local: Settings):
    async with connect(local) as client:
        got = await client.get_prompt(
            "reference_prompt", {"idea": "a dance on a roof", "images": "2", "videos": "1", "audios": "1"}
        )
        odd = await client.get_prompt("reference_prompt", {"idea": "x", "images": "two"})
    text = got.messages[0].content
    assert isinstance(text, TextContent)
    assert "@Image1, @Image2, @Video1, @Audio1" in text.text and "@Video2" not in text.text
    odd_text = odd.messages[0].content
    assert isinstance(odd_text, TextContent) and "(no references yet)" in odd_text.text


async def test_reference_video_warns_about_references_the_prompt_never_names(local: Settings, tmp_path: Path):
    paths = []
    for index, colour in enumerate(((200, 40, 40), (40, 40, 200))):
        path = tmp_path / f"ref{index}.png"
        path.write_bytes(picture((320, 240), colour, (250, 250, 250)))
        paths.append(str(path))
    base = {"image_urls": paths, "duration": "4", "resolution": "480p", "generate_audio": False}
    async with connect(local) as client:
        partial = await client.call_tool("reference_video", {**base, "prompt": "the cat from @image1 sleeps"})
        named = await client.call_tool("reference_video", {**base, "prompt": "@Image1 meets @Image2"})
    assert not partial.is_error and not named.is_error, text_of(partial) + text_of(named)
    assert "Warning: @Image2 is never named in the prompt" in text_of(partial)
    assert "@Image1" not in text_of(partial).split("Warning:")[1].split("is never")[0]
    assert "Warning" not in text_of(named)
