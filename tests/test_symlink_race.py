"""A file named by path is opened once, and only what that open read goes on: judged, uploaded, rendered.

A member of the team who can write into a media folder swaps a file's name between a real file and a link
to a file outside, as fast as the disk lets them, while calls name it in every media slot. Whatever each
call's check saw, not one byte of the outside file may reach an upload, a job or a render.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from server.inputs import SLOTS
from server.ledger.sqlite import SqliteLedger
from server.settings import Settings
from tests.conftest import connect, text_of
from tests.fake_fal import FakeFal, Phase
from tests.http_servers import mcp_over_http, start
from tests.media import file_of, picture
from tests.test_media_checks import mp4, wav

pytestmark = pytest.mark.anyio

TRIES = 24  # calls per slot while the name is swapped: a few hundred in all, each a chance to slip through
MAX_SWAPS = 2_000_000  # the swapper stops by itself even if a test never tells it to
PROMPT = "@Image1 walks through the frame"


@dataclass(frozen=True)
class Pair:
    """The file a slot names, as it should be read, and the outside file a link swapped in leads to."""

    inside: bytes
    outside: bytes
    suffix: str


PAIRS = {
    "image": Pair(
        picture((400, 300), (20, 120, 60), (250, 250, 250)),
        picture((400, 300), (200, 0, 0), (0, 0, 0)),
        "png",
    ),
    "video": Pair(mp4(2.5), mp4(3.5), "mp4"),
    "audio": Pair(wav(2.5), wav(3.5), "wav"),
}


@pytest.fixture(autouse=True)
def jobs_held(fake_fal: FakeFal) -> None:
    """The jobs these calls start stay queued at fal: what is judged is what reached it, and finishing a few
    hundred jobs (a download and a poster each) would cost the suite tens of seconds of CPU for nothing."""
    fake_fal.plan = [Phase("IN_QUEUE", None, queue_position=0)]
    fake_fal.stream_tick = 0.5  # and their streams look at them twice a second, not fifty times


# The swapper runs in a process of its own, as the member of the team would: in the server's process it
# would take turns with the server's code under the interpreter's lock, and rarely land inside a call.
SWAPPER = """
import os, sys, time
stop, pairs, most = sys.argv[1], sys.argv[2:], int(os.environ["MAX_SWAPS"])
pairs = [pairs[i : i + 3] for i in range(0, len(pairs), 3)]
swaps = 0
while swaps < most and not os.path.exists(stop):
    for name, keep, outside in pairs:
        os.symlink(outside, name + ".link")
        os.replace(name + ".link", name)
    time.sleep(0.0005)  # half a millisecond each way, as the hostile run flipped them
    for name, keep, outside in pairs:
        os.link(keep, name + ".real")
        os.replace(name + ".real", name)
    time.sleep(0.0005)
    swaps += 1
print(swaps)
"""


@dataclass(frozen=True)
class Race:
    """A folder whose `race.*` names flip between their real file and a link to the outside one."""

    folder: Path
    names: dict[str, Path]


@contextmanager
def racing(root: Path, swapping: bool = True) -> Iterator[Race]:
    folder, kept, away = root / "shared", root / "kept", root / "outside"
    for each in (folder, kept, away):
        each.mkdir(parents=True, exist_ok=True)
    keep = {kind: kept / f"inside.{pair.suffix}" for kind, pair in PAIRS.items()}
    outside = {kind: away / f"secret.{pair.suffix}" for kind, pair in PAIRS.items()}
    names = {kind: folder / f"race.{pair.suffix}" for kind, pair in PAIRS.items()}
    for kind, pair in PAIRS.items():
        keep[kind].write_bytes(pair.inside)
        outside[kind].write_bytes(pair.outside)
        os.link(keep[kind], names[kind])
    (folder / "steady.png").write_bytes(PAIRS["image"].inside)
    if not swapping:
        yield Race(folder, names)
        return
    stop = root / "stop-swapping"
    argv = [str(path) for kind in PAIRS for path in (names[kind], keep[kind], outside[kind])]
    swapper = subprocess.Popen(
        [sys.executable, "-c", SWAPPER, str(stop), *argv],
        env={**os.environ, "MAX_SWAPS": str(MAX_SWAPS)},
        stdout=subprocess.PIPE,
    )
    try:
        yield Race(folder, names)
    finally:
        stop.touch()
        out, _ = swapper.communicate(timeout=60)
    assert swapper.returncode == 0 and int(out) > 0, "the swapper did not run"


def calls(race: Race) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every media slot of every generation tool, naming the raced file."""
    steady = str(race.folder / "steady.png")
    image, video, audio = (str(race.names[kind]) for kind in ("image", "video", "audio"))
    cheap = {"duration": "4", "resolution": "480p", "wait_seconds": 0, "force_new": True}
    yield "animate_image", {**cheap, "prompt": PROMPT, "image_url": image}
    yield "animate_image", {**cheap, "prompt": PROMPT, "image_url": steady, "end_image_url": image}
    yield "reference_video", {**cheap, "prompt": PROMPT, "image_urls": [image]}
    yield "reference_video", {**cheap, "prompt": PROMPT + " in @Video1", "image_urls": [steady], "video_urls": [video]}
    yield "reference_video", {**cheap, "prompt": PROMPT + " to @Audio1", "image_urls": [steady], "audio_urls": [audio]}


def outside_in(blobs: list[bytes]) -> list[int]:
    """Which of these blobs hold any outside file, whole or as a part."""
    secrets = [pair.outside for pair in PAIRS.values()]
    return [i for i, blob in enumerate(blobs) if any(secret in blob for secret in secrets)]


async def _run(settings: Settings, race: Race) -> tuple[int, int]:
    """Every slot's calls while the names flip: how many were accepted and how many refused."""
    accepted = refused = 0
    async with connect(settings) as client:
        for _ in range(TRIES):
            for tool, arguments in calls(race):
                result = await client.call_tool(tool, arguments)
                if result.is_error:
                    assert "Invalid arguments" in text_of(result), text_of(result)
                    refused += 1
                else:
                    accepted += 1
    return accepted, refused


async def test_on_fal_a_swapped_link_uploads_nothing_from_outside(
    settings: Settings, fake_fal: FakeFal, tmp_path: Path
):
    with racing(tmp_path) as race:
        shared = dataclasses.replace(settings, allowed_dirs=(race.folder,), confirm_above_usd=100)
        accepted, refused = await _run(shared, race)
    uploaded = [data for _, _, data in fake_fal.uploads]
    assert outside_in(uploaded) == [], f"{len(outside_in(uploaded))} of {len(uploaded)} uploads came from outside"
    insides = {pair.inside for pair in PAIRS.values()}
    assert set(uploaded) <= insides
    assert accepted > 0 and refused > 0 and accepted + refused == TRIES * 5  # the race ran, and calls still went
    assert fake_fal.count("submit") == accepted


async def _rendered_from(settings: Settings) -> list[bytes]:
    """What each preview job renders from: the files its media arguments name, read now."""
    ledger = SqliteLedger(settings.ledger_path)
    try:
        jobs = await ledger.recent(limit=10_000)
    finally:
        await ledger.close()
    found = []
    for job in jobs:
        for slot in SLOTS:
            value = job.arguments.get(slot)
            for url in value if isinstance(value, list) else [value] if value else []:
                assert str(url).startswith(settings.previews_dir.as_uri()), url  # the backend's own copy
                found.append(file_of(str(url)).read_bytes())
    return found


async def test_on_the_preview_a_swapped_link_renders_nothing_from_outside(settings: Settings, tmp_path: Path):
    local = dataclasses.replace(settings, provider="local", fal_key=None)
    with racing(tmp_path) as race:
        accepted, refused = await _run(dataclasses.replace(local, allowed_dirs=(race.folder,)), race)
    rendered = await _rendered_from(local)
    assert outside_in(rendered) == [], f"{len(outside_in(rendered))} of {len(rendered)} inputs came from outside"
    assert set(rendered) <= {pair.inside for pair in PAIRS.values()} and len(rendered) >= accepted
    assert accepted > 0 and refused > 0 and accepted + refused == TRIES * 5


async def test_without_a_race_every_slot_is_read_as_it_should_be(settings: Settings, fake_fal: FakeFal, tmp_path: Path):
    """The normal case: the same calls, nothing swapped, each accepted; the preview renders the real image."""
    with racing(tmp_path, swapping=False) as race:
        accepted, refused = await _run(dataclasses.replace(settings, allowed_dirs=(race.folder,)), race)
        assert (accepted, refused) == (TRIES * 5, 0)
        assert {data for _, _, data in fake_fal.uploads} == {pair.inside for pair in PAIRS.values()}
        local = dataclasses.replace(settings, provider="local", fal_key=None, allowed_dirs=(race.folder,))
        async with connect(local) as client:
            made = await client.call_tool(
                "animate_image",
                {"prompt": PROMPT, "image_url": str(race.names["image"]), "duration": "4", "wait_seconds": 600},
            )
    assert made.structured_content and made.structured_content["status"] == "completed", text_of(made)
    assert file_of(made.structured_content["video"]["url"]).stat().st_size > 0


@pytest.mark.slow  # a server in its own process
async def test_over_http_a_swapped_link_in_a_shared_folder_uploads_nothing_from_outside(
    fake_fal: FakeFal, tmp_path: Path, processes: list[subprocess.Popen[bytes]]
):
    with racing(tmp_path) as race:
        process, port = start(
            fake_fal,
            tmp_path,
            SEEDANCE_FAL_REST_URL=fake_fal.url,
            SEEDANCE_SHARED_DIRS=str(race.folder),
            SEEDANCE_CONFIRM_ABOVE_USD="100",
        )
        processes.append(process)
        answers: list[bool] = []
        async with mcp_over_http(f"http://127.0.0.1:{port}/mcp", timeout=120) as client:
            for _ in range(TRIES):
                for tool, arguments in calls(race):
                    result = await client.call_tool(tool, arguments)
                    assert not result.is_error or "Invalid arguments" in text_of(result), text_of(result)
                    answers.append(result.is_error)
    uploaded = [data for _, _, data in fake_fal.uploads]
    assert outside_in(uploaded) == [] and set(uploaded) <= {pair.inside for pair in PAIRS.values()}
    assert len(answers) == TRIES * 5 and fake_fal.count("submit") == answers.count(False)
    assert 0 < answers.count(False) < len(answers)
