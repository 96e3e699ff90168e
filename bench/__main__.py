"""`python -m bench [--json PATH]`: run every benchmark, print tables, and write the figures as JSON.

Every figure is a median of repeated runs beside its comparison from the same run, since this machine
is shared and noisy: the ratios are what to compare.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import (
    card,
    concurrency,
    film,
    flood,
    latency,
    media_checks,
    overhead,
    render,
    replicas,
    scale,
    startup,
    trust,
    upstream,
)
from bench.fake import fake_fal


def table(rows: list[dict[str, Any]]) -> str:
    columns = list(rows[0])
    widths = [max(len(str(c)), *(len(str(r[c])) for r in rows)) for c in columns]
    line = " | ".join(str(c).ljust(w) for c, w in zip(columns, widths, strict=True))
    out = [line, "-|-".join("-" * w for w in widths)]
    out += [" | ".join(str(r[c]).ljust(w) for c, w in zip(columns, widths, strict=True)) for r in rows]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--json", type=Path, default=Path("bench-results.json"), help="where to write the figures")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    for noisy in ("httpx", "httpx2", "server", "mcp"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    results: dict[str, Any] = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version()}}
    began = time.monotonic()

    def section(key: str, title: str, run: Callable[[], Any]) -> None:
        print(title)
        figures = run()
        results[key] = figures
        grouped = isinstance(figures, dict) and all(isinstance(v, dict | list) for v in figures.values())
        for part in figures.values() if grouped else [figures]:  # a section of several tables prints each
            print(table(part if isinstance(part, list) else [part]), "\n", flush=True)

    section(
        "startup",
        f"1. Cold start over stdio, spawn to the handshake's answer (median of {startup.RUNS})",
        startup.measure,
    )
    with fake_fal() as fake:
        section(
            "upstream_requests",
            f"2. Requests to fal's queue per job (median of {upstream.RUNS}; jobs played {upstream.SPEED:g}x fast)",
            lambda: upstream.measure(fake),
        )
        section(
            "latency",
            f"3-4. Latency added, median of {latency.RUNS} (the fake's clock, read by the client)",
            lambda: latency.measure(fake),
        )
        section(
            "concurrency",
            f"5. {concurrency.JOBS} jobs in flight in one process over stdio, held {concurrency.HOLD_SECONDS:g} s",
            lambda: concurrency.measure(fake),
        )
        section(
            "replicas",
            f"10. {replicas.REPLICAS} replicas sharing one PostgreSQL ledger: {replicas.JOBS} jobs, waking, takeover, "
            "round trips",
            lambda: replicas.measure(fake),
        )
        section(
            "scale",
            f"14. Jobs nobody waits on across {replicas.REPLICAS} replicas on one PostgreSQL, webhooks on and off "
            f"(the fake {scale.SPEED:g}x fast)",
            lambda: scale.measure(fake),
        )
        section(
            "flood",
            f"13. Another person's estimate_cost while one person floods two replicas with waves of {flood.WAVE} paid "
            f"calls (p90 of {flood.ROUNDS})",
            lambda: flood.measure(fake),
        )
        section(
            "card",
            f"8. The job card, from the job done to its video playing in headless Chromium (median of {card.RUNS})",
            lambda: card.measure(fake),
        )
    section("overhead", f"6. Round trips over stdio (median of {overhead.CALLS})", overhead.measure)
    section("render", f"7. Preview render, {render.SECONDS} s clip (median of {render.RUNS})", render.measure)
    section(
        "film",
        f"9. make_film of {film.CLIPS} clips of {film.SECONDS} s at 720p, and inspect_video (median of {film.RUNS})",
        film.measure,
    )
    section("trust", f"11. The trust model's cost per answer and per URL (median of {trust.RUNS})", trust.measure)
    section(
        "media_checks",
        f"12. Checking an image before it is paid for: time and peak memory (median of {media_checks.RUNS})",
        media_checks.measure,
    )
    results["total_seconds"] = round(time.monotonic() - began)
    args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"took {results['total_seconds']} s; wrote {args.json}")


if __name__ == "__main__":
    main()
