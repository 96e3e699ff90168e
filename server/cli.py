"""The `seedance-mcp` command: serve over stdio (what desktop clients start) or streamable HTTP."""

from __future__ import annotations

import argparse
import gc
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from types import ModuleType

from server import __version__
from server.settings import Settings
from server.starting import settings_for_start, tracing_asked


class _Unwanted(importlib.abc.MetaPathFinder):
    """Refuses to load `uvicorn` while the SDK is imported for stdio. The SDK's server imports sse-starlette,
    which imports uvicorn (tens of milliseconds at every start) only to hook uvicorn's shutdown, and goes on
    without it when it is missing. Over stdio no uvicorn runs, so nothing is lost."""

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if name == "uvicorn" or name.startswith("uvicorn."):
            raise ModuleNotFoundError(f"{name} is not loaded for a stdio server", name=name)
        return None


@contextmanager
def _without_uvicorn() -> Iterator[None]:
    finder = _Unwanted()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


WAITING = (
    "seedance-mcp is an MCP server: it now waits for an MCP client to talk to it on stdin, and shows nothing "
    "more here. To see it make a video in this terminal, run `seedance-mcp demo`; to serve HTTP, "
    "`seedance-mcp --http`. Press Ctrl-C to stop."
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="seedance-mcp",
        description="MCP server for ByteDance Seedance video generation (stdio by default).",
        epilog="`seedance-mcp demo --help` shows the demo: one video made through the server, in this terminal.",
    )
    parser.add_argument("--http", action="store_true", help="serve streamable HTTP at http://HOST:PORT/mcp")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind with --http (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to bind with --http (default 8000)")
    parser.add_argument("--version", action="version", version=f"seedance-mcp {__version__}")
    return parser.parse_args(argv)


@contextmanager
def _collecting_after() -> Iterator[None]:
    """Starting builds a great many objects that live as long as the process (the SDK's protocol types among
    them); collecting garbage while they are made only walks them again and again, about a twentieth of the
    start. So the collector waits until the server is built, then leaves those objects out of its rounds."""
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["demo"]:
        from server.demo import main as demo

        raise SystemExit(demo(argv[1:]))
    args = parse_args(argv)
    stdio = not args.http and "uvicorn" not in sys.modules  # already there in a test's own process
    with _without_uvicorn() if stdio else nullcontext(), _collecting_after():
        settings = _settings()  # a setting's host may load the SDK, through the trust package
        if args.http:
            settings = replace(settings, transport="http")
        from server.app import build_server
        from server.operations.draining import Drain
        from server.state import StateRef

        ref, drain = StateRef(), Drain(settings.drain_seconds)
        server = build_server(settings, ref=ref, drain=drain)
    if args.http:
        from server.transport.http import serve

        serve(server, settings, args.host, args.port, ref, drain)
    else:
        if sys.stdin.isatty():  # a person, not a client, started it
            print(WAITING, file=sys.stderr)
        server.run()


def _settings() -> Settings:
    from server.operations.logs import configure

    settings = settings_for_start()
    configure(settings)
    if tracing_asked():  # settings_for_start has made sure the traces extra is there
        from server.operations.traces import start_tracing

        start_tracing()
    return settings
