"""Saving never replaces a file: whatever is already in the person's folder, and whatever else is saved
under the same name at the same moment, every file is still there, whole, afterwards."""

from __future__ import annotations

import dataclasses
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anyio
import pytest

from server.media.exclusive import place, temporary, write_new
from server.media.saving import dated_name
from server.settings import Settings
from tests.conftest import connect, text_of
from tests.fake_fal import FakeFal
from tests.postgres import PostgresServer

SAVES = 200
WINDOW = 120  # seconds of names taken in advance: far more than a test takes to name its files


def _save(folder: Path, index: int) -> Path:
    part = temporary(folder, ".mp4")
    part.write_bytes(f"take {index}".encode() * 1000)
    return place(part, folder, "2026-12-04 205012 a-lighthouse.mp4")


def test_concurrent_saves_of_one_name_lose_nothing(tmp_path: Path):
    folder = tmp_path / "videos"
    folder.mkdir()
    mine = folder / "2026-12-04 205012 a-lighthouse.mp4"
    mine.write_bytes(b"the person's own file")
    with ThreadPoolExecutor(max_workers=16) as pool:
        saved = list(pool.map(lambda i: _save(folder, i), range(SAVES)))
    assert len(set(saved)) == SAVES and mine not in saved
    assert mine.read_bytes() == b"the person's own file"
    assert sorted(p.read_bytes() for p in saved) == sorted(f"take {i}".encode() * 1000 for i in range(SAVES))
    assert sorted(p.name for p in folder.iterdir()) == sorted([mine.name, *(p.name for p in saved)])  # no .part left
    assert {p.name for p in saved} >= {
        "2026-12-04 205012 a-lighthouse (2).mp4",
        "2026-12-04 205012 a-lighthouse (200).mp4",
    }


def test_a_name_whose_sidecar_is_taken_is_passed_over_and_a_sidecar_never_replaces(tmp_path: Path):
    (tmp_path / "clip.json").write_text("notes")
    part = temporary(tmp_path, ".mp4")
    part.write_bytes(b"video")
    assert place(part, tmp_path, "clip.mp4").name == "clip (2).mp4"
    assert not write_new(tmp_path / "clip.json", b"{}") and (tmp_path / "clip.json").read_text() == "notes"
    assert write_new(tmp_path / "clip (2).json", b"{}")


def _take_names(folder: Path, words: str, fallback: str) -> dict[Path, bytes]:
    """Files of the person's own under every name a save could choose in the next WINDOW seconds."""
    folder.mkdir(parents=True, exist_ok=True)
    now = int(time.time())
    taken = {folder / dated_name(t, words, fallback): f"mine {t}".encode() for t in range(now - 2, now + WINDOW)}
    for path, data in taken.items():
        path.write_bytes(data)
    return taken


@pytest.fixture(params=["sqlite", "postgres"])
def ledger_settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    if request.param == "sqlite":
        return settings
    postgres: PostgresServer = request.getfixturevalue("postgres")
    return dataclasses.replace(settings, database_url=postgres.fresh_database())


@pytest.mark.anyio
async def test_two_takes_of_one_prompt_and_two_films_of_one_title_keep_every_file(
    ledger_settings: Settings, fake_fal: FakeFal
):
    """Both finish together under names the person's files already hold; the ledger keeps the names used."""
    videos = ledger_settings.output_dir
    assert videos is not None
    prompt = "A lighthouse at dusk"
    taken = _take_names(videos, prompt, "video") | _take_names(videos, "film dusk", "film")
    # Each call returns when its job has ended: 600 s bounds a busy machine, it is not a wait.
    call = {"prompt": prompt, "duration": "4", "force_new": True, "wait_seconds": 600}
    async with connect(ledger_settings) as client:
        takes: list[object] = [None, None]

        async def take(index: int) -> None:
            takes[index] = await client.call_tool("generate_text_video", call)

        async with anyio.create_task_group() as tg:
            for index in range(2):
                tg.start_soon(take, index)
        ids = [str(getattr(t, "structured_content", {})["request_id"]) for t in takes]
        films: list[object] = [None, None]

        async def film(index: int) -> None:
            films[index] = await client.call_tool(
                "make_film", {"request_ids": ids[index:] + ids[:index], "title": "dusk"}
            )

        async with anyio.create_task_group() as tg:
            for index in range(2):
                tg.start_soon(film, index)
        jobs = [await client.call_tool("get_job", {"request_id": i}) for i in ids]
        listed = await client.call_tool("list_films", {})
    saved = [Path(getattr(j, "structured_content", {})["video"]["saved_path"]) for j in jobs]
    made = [Path(f["saved_path"]) for f in (getattr(listed, "structured_content", {}))["films"]]
    assert len(set(saved)) == 2 and len(set(made)) == 2, text_of(listed)
    for path in saved:
        assert path.read_bytes() == fake_fal.video and path.with_suffix(".json").is_file()
        assert path not in taken and re.search(r" \(\d+\)\.mp4$", path.name)  # beside the person's file
    for path in made:
        assert path.is_file() and path.stat().st_size > 0 and path not in taken and path.with_suffix(".json").is_file()
    assert all(path.read_bytes() == data for path, data in taken.items())
    assert not list(videos.glob(".seedance-*"))
