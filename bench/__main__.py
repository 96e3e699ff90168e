"""`python -m bench [--json PATH]`: run every benchmark, print tables, and write the figures as JSON."""

from __future__ import annotations

import argparse
import json
import os
import platform
from pathlib import Path
from typing import Any

from bench import render, startup


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
    results = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version()}}
    print("Server start over stdio (spawn to initialize answer), median of", startup.RUNS)
    results["startup"] = startup.measure()  # type: ignore[assignment]
    print(table(results["startup"]), "\n")  # type: ignore[arg-type]
    print(f"Preview render, {render.SECONDS} s clip, median of {render.RUNS}")
    results["render"] = render.measure()  # type: ignore[assignment]
    print(table(results["render"]))  # type: ignore[arg-type]
    args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
