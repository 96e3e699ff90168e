"""What the trust model costs an answer to a remote caller: its last read for paths of the server's disk,
against serializing the same answer (which the SDK does for every answer anyway); and the up-front check of
a caller's URL, against parsing that URL."""

from __future__ import annotations

import base64
import os
import statistics
import time
from collections.abc import Callable
from contextlib import suppress
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mcp.types import CallToolResult, TextContent

from server.settings import Settings
from server.trust import Refused, Trust

RUNS = 200


def _median_us(run: Callable[[], Any], runs: int = RUNS) -> float:
    run()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1e6


def _answers() -> dict[str, CallToolResult]:
    text = "Video ready (5 s, 1280x720 (720p, 16:9)): https://v3.fal.media/files/rabbit/abc/output.mp4"
    job = {"request_id": "b1161097-9988", "status": "completed", "video": {"url": "https://v3.fal.media/x.mp4"}}
    piece = base64.b64encode(os.urandom(576 * 1024)).decode()  # what video_chunk sends: 768 KiB of base64
    return {
        "a finished job's result": CallToolResult(
            content=[TextContent(type="text", text=text)], structured_content=job
        ),
        "a video's piece for the card (768 KiB)": CallToolResult(
            content=[TextContent(type="text", text="piece")], structured_content={"data": piece, "offset": 0}
        ),
    }


def measure() -> list[dict[str, Any]]:
    trust = Trust.of(Settings(home=Path.home() / ".local/share/seedance-mcp", output_dir=Path.home() / "Videos"))
    redactor = trust.redactor()
    rows = []
    for name, answer in _answers().items():
        serialize = _median_us(partial(answer.model_dump_json, by_alias=True, exclude_none=True))
        last_read = _median_us(partial(redactor.result, answer))
        rows.append(
            {
                "work": f"last read of {name}",
                "it": f"{last_read:.0f} us",
                "comparison": f"serializing it: {serialize:.0f} us",
                "ratio": f"{last_read / serialize:.2f}x",
            }
        )
    url = "https://0x7f.0.0.1:8443/cat.png"

    def literal_check() -> None:
        with suppress(Refused):
            trust.guard.literal(urlsplit(url).hostname or "")

    check = _median_us(literal_check)
    parse = _median_us(lambda: urlsplit(url).hostname)
    rows.append(
        {
            "work": "up-front check of a caller's URL naming an address",
            "it": f"{check:.1f} us",
            "comparison": f"parsing the URL: {parse:.1f} us",
            "ratio": f"{check / parse:.2f}x",
        }
    )
    return rows
