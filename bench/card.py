"""The job card: from the moment a job is done to its video playing in the card, in headless Chromium.

- fal: the fake marks a held job COMPLETED; the card, which has been following it, plays the link. The
  comparison is the download itself: a bare <video> in the same browser loading the same URL afresh.
- preview: a 5 s 720p preview is rendered; the card follows it and plays it through the server in
  pieces. The comparison is the render itself, the same clip rendered in this process.

Both ends are read on the machine's wall clock: the fake's monotonic clock is carried over to it, and the
card's moment is Date.now() in the frame where readyState first reaches 1 (checked every frame).
"""

from __future__ import annotations

import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.fake import KEY
from server.demo import server_command
from server.preview.render import RenderSpec, render
from tests.card_host import CardHost
from tests.conftest import REPO, UI_PACKAGES, installed_chromium, npm_ci, subprocess_env
from tests.fake_fal import FakeFal, Phase

RUNS = 7
GOAL_SECONDS = 1.0
PLAYING = "document.getElementById('video').readyState >= 1 && Date.now()"
FOLLOWING = "document.getElementById('badge').dataset.status === 'in_progress'"
PREVIEW = {"prompt": "a lighthouse in a storm", "duration": "5", "resolution": "720p", "aspect_ratio": "16:9"}


def _host(folder: Path, chromium: str, **env: str) -> CardHost:
    command, args = server_command()
    assert not args, "the benchmark runs the installed seedance-mcp command"
    settings = subprocess_env(folder, SEEDANCE_DEDUP_SECONDS="0", SEEDANCE_CONFIRM_ABOVE_USD="1000", **env)
    return CardHost(command, settings, chromium, folder / "driver.log")


def _fal_run(host: CardHost, fake: FakeFal, run: int) -> tuple[float, float]:
    fake.plan = [Phase("IN_PROGRESS", None)]
    arguments = {"prompt": f"a lighthouse in a storm, take {run}", "duration": "4", "wait_seconds": 0}
    result = host.call("generate_text_video", arguments)
    request_id = result["structuredContent"]["request_id"]
    host.open("generate_text_video", arguments, result)
    host.wait(FOLLOWING)
    clock = time.time() - time.monotonic()
    fake.advance(request_id)
    completed = fake.job(request_id).changes[-1][1] + clock
    playing = host.wait(PLAYING, polling="raf") / 1000
    plain = host.send("plain", url=f"{fake.cdn}/files/{request_id}/output.mp4?plain={run}")
    return playing - completed, float(plain)


def _preview_run(host: CardHost, home: Path) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as folder:
        began = time.perf_counter()
        render(RenderSpec("text-to-video", PREVIEW["prompt"], 1280, 720, 5, True, seed=1), Path(folder) / "clip.mp4")
        itself = time.perf_counter() - began
    arguments = {**PREVIEW, "wait_seconds": 0}
    result = host.call("generate_text_video", arguments)
    request_id = result["structuredContent"]["request_id"]
    host.open("generate_text_video", arguments, result)
    playing = host.wait(PLAYING, polling="raf") / 1000
    with sqlite3.connect(home / "jobs.sqlite3") as db:
        created = float(db.execute("SELECT created_at FROM jobs WHERE request_id = ?", (request_id,)).fetchone()[0])
    return playing - created, itself


def _row(job: str, itself: str, pairs: list[tuple[float, float]]) -> dict[str, Any]:
    card = statistics.median(card for card, _ in pairs)
    base = statistics.median(base for _, base in pairs)
    above = statistics.median(card - base for card, base in pairs)
    return {
        "job": job,
        "the job's own step": itself,
        "that step itself": f"{base * 1000:.0f} ms",
        "done to playing in the card": f"{card * 1000:.0f} ms",
        "above the step itself": f"{above * 1000:.0f} ms",
        f"goal (<= {GOAL_SECONDS:g} s above)": "met" if above <= GOAL_SECONDS else "**missed**",
    }


def measure(fake: FakeFal) -> list[dict[str, Any]]:
    chromium = installed_chromium()
    if chromium is None:
        raise SystemExit("the card benchmark needs Chromium: apt-get install chromium")
    npm_ci(REPO / "ui", UI_PACKAGES)
    with tempfile.TemporaryDirectory() as folder:
        on_fal = Path(folder) / "fal"
        local = Path(folder) / "local"
        on_fal.mkdir()
        local.mkdir()
        host = _host(on_fal, chromium, FAL_KEY=KEY, SEEDANCE_FAL_QUEUE_URL=fake.url, SEEDANCE_MEDIA_ORIGINS=fake.cdn)
        try:
            fal = [_fal_run(host, fake, run) for run in range(RUNS)]
        finally:
            host.close()
        host = _host(local, chromium, SEEDANCE_PROVIDER="local")
        try:
            previews = [_preview_run(host, local / "home") for _ in range(RUNS)]
        finally:
            host.close()
    clip_kb = len(fake.video) / 1024
    return [
        _row(f"fal, 4 s 864x496 clip ({clip_kb:.0f} KB), played from its link", "download", fal),
        _row("preview, 5 s 720p, played through the server as data:", "render", previews),
    ]
