"""The fake fal queue the suite tests against, started for a benchmark, and the two clients that use it.

`ours` is seedance-mcp as a model drives it: a generation call that waits `wait_seconds`, then get_job
until the video is there. `official` is fal's own Python client, `fal_client.AsyncClient.subscribe`,
pointed at the same fake; it polls the status URL every `interval` seconds.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mcp import Client

from server.app import build_server
from server.preview.render import RenderSpec, render
from server.settings import Settings
from tests.fake_fal import FakeFal, Phase

KEY = "bench-key-0f1e2d3c:4b5a69788796a5b4"
ENDPOINT = "bytedance/seedance-2.0/text-to-video"
ARGUMENTS = {"prompt": "a lighthouse in a storm", "duration": "5", "aspect_ratio": "16:9"}


@contextmanager
def fake_fal() -> Iterator[FakeFal]:
    fake = FakeFal(KEY)
    with tempfile.TemporaryDirectory() as folder:
        clip = Path(folder) / "clip.mp4"
        render(RenderSpec("text-to-video", "benchmark", 864, 496, 4, True, seed=1), clip)
        fake.video = clip.read_bytes()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


def job_plan(queued: float, generating: float) -> list[Phase]:
    return [Phase("IN_QUEUE", queued, queue_position=0), Phase("IN_PROGRESS", generating, log="generating")]


def settings_for(fake: FakeFal, home: Path, **changes: Any) -> Settings:
    base = Settings(
        fal_key=KEY,
        provider="fal",
        fal_queue_url=fake.url,
        home=home,
        output_dir=None,
        confirm_above_usd=1000.0,
        max_usd_per_job=1000.0,
        dedup_seconds=0,
    )
    return dataclasses.replace(base, **changes)


async def ours(settings: Settings) -> dict[str, Any]:
    """One video through seedance-mcp in this process, as a model asks for it; returns the finished job."""
    async with Client(build_server(settings)) as client:
        result = await client.call_tool("generate_text_video", ARGUMENTS)
        job = result.structured_content or {}
        while job.get("status") in ("queued", "in_progress"):
            result = await client.call_tool("get_job", {"request_id": job["request_id"]})
            job = result.structured_content or {}
    if job.get("status") != "completed":
        raise RuntimeError(f"the benchmark job did not complete: {job}")
    return job


async def official(fake: FakeFal, interval: float, on_update: Callable[[Any], None] | None = None) -> Any:
    """One video through fal's own client, `subscribe` with logs, as its README shows."""
    import fal_client
    import fal_client.client

    fal_client.client.QUEUE_URL_FORMAT = f"{fake.url}/"  # the only host it would otherwise reach
    client = fal_client.AsyncClient(key=KEY)
    return await client.subscribe(ENDPOINT, ARGUMENTS, with_logs=True, interval=interval, on_queue_update=on_update)
