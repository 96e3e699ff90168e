"""`seedance-mcp demo`: the whole flow as a desktop client sees it, in a terminal.

It starts `seedance-mcp` as a subprocess over stdio, calls the tool with a progress callback, draws a
progress bar from the notifications and prints what was made. Without a key it renders an offline
preview; with a fal key it shows the price and asks before spending anything.
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import stat
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.types import CallToolResult, TextContent

from server.catalog import ASPECT_RATIOS, DEFAULT_MODEL, DURATIONS, MAX_SECONDS, MIN_SECONDS, MODELS, RESOLUTIONS
from server.inputs import sniff
from server.inputs.formats import ALLOWED_FORMATS, SNIFF_BYTES
from server.media.file_urls import local_path
from server.settings import Settings
from server.starting import settings_for_start

DEFAULT_PROMPT = (
    "A lighthouse on a rocky cliff at dusk, waves crashing below, its beam sweeping through the rain, "
    "slow push-in, the sound of wind and surf"
)
BAR_WIDTH = 30
MAX_FOLLOW_SECONDS = 30 * 60


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="seedance-mcp demo",
        description="Make one video through the MCP server, exactly as a desktop client would.",
    )
    p.add_argument("prompt", nargs="?", default=DEFAULT_PROMPT, help="what the video shows (default: a lighthouse)")
    p.add_argument("--image", type=Path, help=f"animate this image ({ALLOWED_FORMATS['image']}) instead of text alone")
    p.add_argument("--end-image", type=Path, help="with --image: the image the video ends on")
    p.add_argument(
        "--duration",
        default="5",
        choices=DURATIONS,
        metavar="SECONDS",
        help=f'seconds, {MIN_SECONDS}-{MAX_SECONDS}, or "auto" (default 5)',
    )
    p.add_argument("--resolution", choices=RESOLUTIONS, default="720p")
    p.add_argument("--aspect-ratio", choices=ASPECT_RATIOS, default="auto")
    p.add_argument("--model", choices=MODELS, default=DEFAULT_MODEL)
    p.add_argument("--yes", action="store_true", help="do not ask before a paid generation")
    return p


def image_type(path: Path) -> str | None:
    """The image's MIME type by its bytes, or None when it is not an image the API takes."""
    with path.open("rb") as handle:
        found = sniff(handle.read(SNIFF_BYTES))
    return found[1] if found is not None and found[0] == "image" else None


def data_uri(path: Path) -> str:
    """A local image as a data: URI, which every backend accepts."""
    return f"data:{image_type(path)};base64,{base64.b64encode(path.read_bytes()).decode()}"


def tool_call(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    arguments: dict[str, Any] = {
        "prompt": args.prompt,
        "duration": args.duration,
        "resolution": args.resolution,
        "aspect_ratio": args.aspect_ratio,
        "model": args.model,
    }
    if args.image is None:
        return "generate_text_video", arguments
    arguments["image_url"] = data_uri(args.image)
    if args.end_image is not None:
        arguments["end_image_url"] = data_uri(args.end_image)
    return "animate_image", arguments


def server_command() -> tuple[str, list[str]]:
    """The installed console script, as a client config names it; the module as a fallback."""
    script = shutil.which("seedance-mcp", path=str(Path(sys.executable).parent)) or shutil.which("seedance-mcp")
    return (script, []) if script else (sys.executable, ["-m", "server"])


class ProgressBar:
    """Draws progress notifications: one redrawn line on a terminal, one line per new message elsewhere."""

    def __init__(self) -> None:
        self.live = sys.stderr.isatty()
        self.last_message: str | None = None

    async def __call__(self, progress: float, total: float | None, message: str | None) -> None:
        share = progress / total if total else 0.0
        filled = int(BAR_WIDTH * min(share, 1.0))
        if self.live:
            columns = shutil.get_terminal_size().columns
            line = f"[{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {share:4.0%} {message or ''}"
            sys.stderr.write("\r" + line[: columns - 1].ljust(columns - 1))
        elif message != self.last_message:
            sys.stderr.write(f"{share:4.0%} {message or ''}\n")
        sys.stderr.flush()
        self.last_message = message

    def close(self) -> None:
        if self.live:
            sys.stderr.write("\n")


def text(result: CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


def for_a_person(result: CallToolResult) -> str:
    """A result's text without the lines that tell a model which tool to call next."""
    lines = text(result).splitlines()
    return "\n".join(line for line in lines if not line.startswith("Fix the fields above and call"))


async def confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        print(f"{question}\nNot asking without a terminal: pass --yes to go ahead.", file=sys.stderr)
        return False
    answer = await anyio.to_thread.run_sync(lambda: input(f"{question} Go on? [y/N] "))
    return answer.strip().lower() in ("y", "yes")


def describe(job: dict[str, Any], seconds: float) -> str:
    video = job["video"]
    lines = []
    if job.get("preview"):
        lines.append(f"Done in {seconds:.1f} s: an offline preview rendered on this machine (not Seedance output).")
    else:
        lines.append(f"Done in {seconds:.1f} s on {job['provider']} ({job['endpoint']}).")
    url: str = video["url"]
    path = local_path(url)
    if path is not None:
        from server.preview.probe import probe_file  # PyAV only once there is a file to read

        facts = probe_file(path)
        lines += [
            f"  file:     {path}",
            f"  size:     {path.stat().st_size / 1e6:.1f} MB ({path.stat().st_size:,} bytes)",
            f"  picture:  {facts.width}x{facts.height} at {facts.fps:g} fps",
            f"  duration: {facts.duration:.2f} s, {'with sound (' + facts.audio + ')' if facts.audio else 'silent'}",
        ]
    else:
        size = video.get("file_size")
        lines.append(f"  url:      {url}")
        if size:
            lines.append(f"  size:     {size / 1e6:.1f} MB ({size:,} bytes)")
        if video.get("width") and video.get("height"):
            lines.append(f"  picture:  {video['width']}x{video['height']}")
        if video.get("duration"):
            lines.append(f"  duration: {video['duration']:.2f} s")
    cost = job["list_price_usd"]
    price = f"${cost['min']:.2f}" if cost["min"] == cost["max"] else f"${cost['min']:.2f}-${cost['max']:.2f}"
    lines.append(f"  request:  {job['request_id']} (get_job, or the resource {job['job_uri']})")
    if job.get("preview"):
        lines.append(f"  on fal:   {price} (this preview cost nothing)")
    else:
        lines.append(f"  cost:     {price} on {job['provider']}")
    return "\n".join(lines)


def demo_env(settings: Settings) -> dict[str, str]:
    """The server's environment. A free preview goes to a folder of its own, so that trying the server leaves
    the person's ledger and data folder untouched; a paid job goes to their ledger, where it is never lost."""
    env = dict(os.environ)
    if settings.provider == "local" and not env.get("SEEDANCE_HOME", "").strip():
        env["SEEDANCE_HOME"] = str(demo_home())
    return env


def demo_home() -> Path:
    """The one folder every free demo run shares, under the system's temporary folder, so that runs do not
    leave a new one behind each time. It must be this user's own real folder: one of that name that is a
    link or someone else's (in a /tmp every user can write to) is passed over for a new one."""
    user = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    folder = Path(tempfile.gettempdir()) / f"seedance-demo-{user}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        found = os.lstat(folder)
        if stat.S_ISDIR(found.st_mode) and (not hasattr(os, "getuid") or found.st_uid == os.getuid()):
            return folder
    except OSError:
        pass
    return Path(tempfile.mkdtemp(prefix="seedance-demo-"))


async def run(args: argparse.Namespace, settings: Settings) -> int:
    tool, arguments = tool_call(args)
    env = demo_env(settings)
    home = Path(env["SEEDANCE_HOME"]) if env.get("SEEDANCE_HOME", "").strip() else settings.home
    home.mkdir(parents=True, exist_ok=True)
    log_path = home / "demo-server.log"
    command, command_args = server_command()
    params = StdioServerParameters(command=command, args=command_args, env=env)
    with log_path.open("a", encoding="utf-8") as errlog:
        async with Client(stdio_client(params, errlog=errlog)) as client:
            if settings.provider != "local":
                mode = "image-to-video" if tool == "animate_image" else "text-to-video"
                estimate = await client.call_tool(
                    "estimate_cost",
                    {k: v for k, v in arguments.items() if k in ("model", "resolution", "duration", "aspect_ratio")}
                    | {"mode": mode},
                )
                if estimate.is_error:
                    print(text(estimate), file=sys.stderr)
                    return 2
                if not args.yes and not await confirm(f"This runs on {settings.provider} and costs {text(estimate)}"):
                    return 2
                arguments["confirm_cost"] = True  # the person has just said yes to this price
            else:
                print(
                    "No provider key: rendering an offline preview on this machine (free, no network). "
                    "Set FAL_KEY (or RUNFLOW_API_KEY, ARK_API_KEY) to generate with Seedance 2.0.",
                    file=sys.stderr,
                )
            bar = ProgressBar()
            started = time.monotonic()
            try:
                result = await client.call_tool(tool, arguments, progress_callback=bar)
                job = result.structured_content or {}
                while not result.is_error and job.get("status") in ("queued", "in_progress"):
                    if time.monotonic() - started > MAX_FOLLOW_SECONDS:
                        break
                    result = await client.call_tool("get_job", {"request_id": job["request_id"]}, progress_callback=bar)
                    job = result.structured_content or {}
            finally:
                bar.close()
    if result.is_error or job.get("status") != "completed":
        print(for_a_person(result), file=sys.stderr)
        print(f"(server log: {log_path})", file=sys.stderr)
        return 1
    print(describe(job, time.monotonic() - started))
    return 0


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    if args.end_image is not None and args.image is None:
        parser().error("--end-image needs --image")
    for option, image in (("--image", args.image), ("--end-image", args.end_image)):
        if image is not None and not image.is_file():
            parser().error(f"{option}: no such file: {image}")
        if image is not None and image_type(image) is None:
            parser().error(f"{option}: {image} is not an image the API takes ({ALLOWED_FORMATS['image']})")
    settings = settings_for_start()
    try:
        return anyio.run(run, args, settings)
    except KeyboardInterrupt:
        print("\nStopped. A job that had started is in the ledger: see seedance://jobs.", file=sys.stderr)
        return 130
