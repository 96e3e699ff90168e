"""What teaches the model to use the server well: instructions, prompts, and warnings in results."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, TextContent

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
    assert set(listed) == {"seedance_prompt", "reference_prompt", "storyboard"}
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
        none = await client.get_prompt("reference_prompt", {"idea": "x", "images": "0"})
    text = got.messages[0].content
    assert isinstance(text, TextContent)
    assert "@Image1, @Image2, @Video1, @Audio1" in text.text and "@Video2" not in text.text
    none_text = none.messages[0].content
    assert isinstance(none_text, TextContent) and "(no references yet)" in none_text.text


BAD_PROMPT_CALLS: list[tuple[str, dict[str, str], list[str]]] = [
    ("reference_prompt", {"idea": "x", "images": "ten"}, ["`images`", 'got "ten"', '"9"', "Fix:"]),
    ("reference_prompt", {"idea": "x", "videos": "4"}, ["`videos`", '"3"']),
    ("reference_prompt", {"images": "1"}, ["`idea`", "is required", "add `idea`"]),
    (
        "reference_prompt",
        {"idea": "x", "image": "1"},
        ["`image`: not a parameter", "did you mean `images`?", "rename it to `images`"],
    ),
    ("seedance_prompt", {}, ["`idea`", "is required"]),
    ("seedance_prompt", {"idea": ""}, ["`idea`", "not blank"]),
    ("storybord", {"idea": "x"}, ['Unknown prompt "storybord"', "seedance_prompt, reference_prompt"]),
]


@pytest.mark.parametrize(("name", "arguments", "expected"), BAD_PROMPT_CALLS)
async def test_a_bad_prompt_request_gets_the_same_clear_error_as_a_tool(
    local: Settings, name: str, arguments: dict[str, str], expected: list[str], caplog: pytest.LogCaptureFixture
):
    async with connect(local) as client:
        with pytest.raises(MCPError) as refused:
            await client.get_prompt(name, arguments)
        assert (await client.get_prompt("seedance_prompt", {"idea": "still answers"})).messages
    assert refused.value.code == INVALID_PARAMS
    for words in expected:
        assert words in refused.value.error.message, refused.value.error.message
    assert "Traceback" not in caplog.text


async def test_reference_video_warns_about_references_the_prompt_never_names(local: Settings, tmp_path: Path):
    paths = []
    for index, colour in enumerate(((200, 40, 40), (40, 40, 200))):
        path = tmp_path / f"ref{index}.png"
        path.write_bytes(picture((400, 300), colour, (250, 250, 250)))
        paths.append(str(path))
    base = {"image_urls": paths, "duration": "4", "resolution": "480p", "generate_audio": False}
    async with connect(local) as client:
        partial = await client.call_tool("reference_video", {**base, "prompt": "the cat from @image1 sleeps"})
        named = await client.call_tool("reference_video", {**base, "prompt": "@Image1 meets @Image2"})
    assert not partial.is_error and not named.is_error, text_of(partial) + text_of(named)
    assert "Warning: @Image2 is never named in the prompt" in text_of(partial)
    assert "@Image1" not in text_of(partial).split("Warning:")[1].split("is never")[0]
    assert "Warning" not in text_of(named)
