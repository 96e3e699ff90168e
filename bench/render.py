"""Preview render speed: frames per second and real-time factor, at 480p and 720p, with and without sound.

Each render runs in a fresh process so its peak memory (ru_maxrss) is its own.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PROMPT = "A lighthouse on a rocky cliff at dusk, waves crashing below, slow push-in"
CASES = [("480p", 864, 496, False), ("480p", 864, 496, True), ("720p", 1280, 720, False), ("720p", 1280, 720, True)]
SECONDS = 5
RUNS = 3


def render_once(width: int, height: int, audio: bool) -> dict[str, float]:
    from server.preview.render import RenderSpec, render

    spec = RenderSpec("text-to-video", PROMPT, width, height, SECONDS, audio, seed=7)
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        render(spec, Path(folder) / "bench.mp4")
        wall = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"wall_s": wall, "peak_mb": peak_mb}


def measure() -> list[dict[str, Any]]:
    rows = []
    for name, width, height, audio in CASES:
        runs = []
        for _ in range(RUNS):
            out = subprocess.run(
                [sys.executable, "-m", "bench.render", str(width), str(height), str(int(audio))],
                capture_output=True,
                text=True,
                check=True,
            )
            runs.append(json.loads(out.stdout))
        wall = statistics.median(r["wall_s"] for r in runs)
        rows.append(
            {
                "case": f"{SECONDS} s {name} {'with' if audio else 'without'} sound",
                "wall_s": round(wall, 3),
                "fps": round(SECONDS * 24 / wall, 1),
                "realtime_x": round(SECONDS / wall, 2),
                "peak_mb": round(max(r["peak_mb"] for r in runs), 1),
            }
        )
    return rows


if __name__ == "__main__":
    width, height, audio = (int(a) for a in sys.argv[1:4])
    print(json.dumps(render_once(width, height, bool(audio))))
