"""What checking an image costs before anything is paid: a 12000x12000 PNG bomb, refused on its header,
beside a 5400x3600 photo-sized PNG that passes (and so is decoded in bounded slices), and beside Pillow
decoding the bomb with no limit, as it was before the checks.

Each case runs in a fresh process, the file already in memory and the modules imported, so the growth
of its peak memory (VmHWM) is the check's own.
"""

from __future__ import annotations

import io
import json
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

from bench.proc import peak_mb

RUNS = 3
BOMB_SIDE = 12000
PHOTO = (5400, 3600)  # 19.4 MP, within the 36 MP the hosts take


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def bomb() -> bytes:
    """A grey PNG of 144 million pixels, about 140 KB on disk: every row is zeros."""
    deflate = zlib.compressobj(9)
    data = b"".join(deflate.compress(bytes(BOMB_SIDE + 1)) for _ in range(BOMB_SIDE)) + deflate.flush()
    header = struct.pack(">IIBBBBB", BOMB_SIDE, BOMB_SIDE, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


def photo() -> bytes:
    """An RGB PNG the size of a camera's photo, with gradients and grain so it does not compress away."""
    import numpy as np
    from PIL import Image

    width, height = PHOTO
    x, y = np.meshgrid(np.linspace(0, 255, width), np.linspace(0, 255, height))
    grain = np.random.default_rng(7).integers(0, 24, (height, width))
    pixels = np.stack([x, y, (x + y) / 2], axis=2) + grain[:, :, None]
    out = io.BytesIO()
    Image.fromarray(pixels.clip(0, 255).astype(np.uint8)).save(out, format="PNG", compress_level=1)
    return out.getvalue()


def run_case(case: str, path: Path) -> dict[str, Any]:
    """In this process: judge the file (or decode it unchecked) and report time and peak growth."""
    import os

    from PIL import Image

    from server.errors import InvalidArguments
    from server.inputs.judge import judge
    from server.inputs.pictures import check_picture  # noqa: F401  (imported before the baseline)

    data = path.read_bytes()
    before = peak_mb(os.getpid())
    started = time.perf_counter()
    outcome = "accepted"
    if case == "unchecked":
        Image.MAX_IMAGE_PIXELS = None
        Image.open(io.BytesIO(data)).load()
        outcome = "decoded"
    else:
        try:
            judge("image_url", path.name, io.BytesIO(data), len(data), "image")
        except InvalidArguments:
            outcome = "refused"
    return {"ms": (time.perf_counter() - started) * 1000, "grew_mb": peak_mb(os.getpid()) - before, "outcome": outcome}


CASES = [
    ("bomb", "checked", f"{BOMB_SIDE}x{BOMB_SIDE} PNG bomb, checked"),
    ("photo", "checked", f"{PHOTO[0]}x{PHOTO[1]} PNG, checked"),
    ("bomb", "unchecked", f"{BOMB_SIDE}x{BOMB_SIDE} PNG bomb, decoded with no limit"),
]


def measure() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as folder:
        files = {"bomb": Path(folder) / "bomb.png", "photo": Path(folder) / "photo.png"}
        files["bomb"].write_bytes(bomb())
        files["photo"].write_bytes(photo())
        for name, case, label in CASES:
            runs = [
                json.loads(
                    subprocess.run(
                        [sys.executable, "-m", "bench.media_checks", case, str(files[name])],
                        capture_output=True,
                        text=True,
                        check=True,
                    ).stdout
                )
                for _ in range(RUNS)
            ]
            rows.append(
                {
                    "case": label,
                    "file_kb": round(files[name].stat().st_size / 1024),
                    "outcome": runs[0]["outcome"],
                    "ms": round(statistics.median(r["ms"] for r in runs), 1),
                    "peak_grew_mb": round(statistics.median(r["grew_mb"] for r in runs), 1),
                }
            )
    _, photo_checked, unchecked = rows
    for row in rows:  # a growth under 0.1 MB is counted as 0.1, so that no ratio divides by nothing
        row["memory_vs_photo"] = f"{max(row['peak_grew_mb'], 0.1) / max(photo_checked['peak_grew_mb'], 0.1):.3f}x"
        row["memory_vs_unchecked"] = f"{max(row['peak_grew_mb'], 0.1) / unchecked['peak_grew_mb']:.4f}x"
    return rows


if __name__ == "__main__":
    print(json.dumps(run_case(sys.argv[1], Path(sys.argv[2]))))
