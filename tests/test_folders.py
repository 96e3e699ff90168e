"""A tool that cannot write where the settings told it to says which folder, which setting, and why."""

from __future__ import annotations

import dataclasses

import pytest

from server.settings import Settings
from tests.conftest import connect, text_of
from tests.fake_fal import FakeFal

pytestmark = pytest.mark.anyio


async def test_make_film_into_a_folder_it_cannot_write_is_a_tool_error_naming_it(settings: Settings, fake_fal: FakeFal):
    unsaved = dataclasses.replace(settings, output_dir=None)  # films then go to SEEDANCE_HOME/films
    async with connect(unsaved) as client:
        shots = [
            (await client.call_tool("generate_text_video", {"prompt": f"shot {n}", "duration": "4"})).structured_content
            for n in (1, 2)
        ]
        ids = [str((shot or {})["request_id"]) for shot in shots]
        unsaved.films_dir.parent.mkdir(parents=True, exist_ok=True)
        unsaved.films_dir.write_text("a file where the films folder should be")
        result = await client.call_tool("make_film", {"request_ids": ids})
    text = text_of(result)
    assert result.is_error and f"Could not write to {unsaved.films_dir} (SEEDANCE_HOME)" in text, text
    assert "it is a file, not a folder" in text and "Fix:" in text, text


async def test_a_frame_of_an_earlier_job_that_cannot_be_written_names_the_folder(settings: Settings, fake_fal: FakeFal):
    async with connect(settings) as client:
        made = await client.call_tool("generate_text_video", {"prompt": "the first shot", "duration": "4"})
        request_id = str((made.structured_content or {})["request_id"])
        settings.frames_dir.parent.mkdir(parents=True, exist_ok=True)
        settings.frames_dir.write_text("a file where the frames folder should be")
        result = await client.call_tool(
            "animate_image", {"prompt": "the next shot", "image_url": f"seedance://jobs/{request_id}/frames/last"}
        )
    text = text_of(result)
    assert result.is_error and f"Could not write to {settings.frames_dir} (SEEDANCE_HOME)" in text, text
    assert fake_fal.count("submit") == 1
