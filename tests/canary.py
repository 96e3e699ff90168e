"""The secrets check across the whole run: a canary key goes through every test, and at the end every
message a server sent, every log line and every file written is searched for it (see test_canary.py)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from mcp import Client
from mcp.shared.dispatcher import ProgressFnT
from mcp.types import CallToolResult, ReadResourceResult

CANARY_KEY = "canary-key-5f1e0d9c:0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d"
EMITTED: list[str] = []  # everything servers sent to a test client: results, progress messages, resources
EMITTED_FILE = "emitted-by-servers.json"  # where each test process leaves EMITTED and its log lines at the end


class RecordingClient(Client):
    """The SDK's client, keeping a copy of everything the server sends for the canary test."""

    async def call_tool(
        self,
        name: str,
        arguments: dict[str, Any] | None = None,
        read_timeout_seconds: float | None = None,
        progress_callback: ProgressFnT | None = None,
        **kwargs: Any,
    ) -> CallToolResult:
        async def relay(progress: float, total: float | None, message: str | None) -> None:
            EMITTED.append(message or "")
            if progress_callback is not None:
                await progress_callback(progress, total, message)

        result = await super().call_tool(name, arguments, read_timeout_seconds, relay, **kwargs)
        EMITTED.append(result.model_dump_json())
        return result

    async def read_resource(self, uri: str, **kwargs: Any) -> ReadResourceResult:
        result = await super().read_resource(uri, **kwargs)
        EMITTED.append(result.model_dump_json())
        return result


class LogRecorder(logging.Handler):
    """Every log line any logger writes during the session, formatted as the server would write it."""

    lines: ClassVar[list[str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(scope="session", autouse=True)
def record_logs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Record every log line; at the end, leave this process's records in its temp folder for the key search."""
    root = logging.getLogger()
    handler = LogRecorder(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield
    root.removeHandler(handler)
    root.setLevel(previous)
    records = {"emitted": EMITTED, "log_lines": LogRecorder.lines}
    (tmp_path_factory.getbasetemp() / EMITTED_FILE).write_text(json.dumps(records))


def key_leaks(texts: list[str], base: Path) -> list[str]:
    """Where the canary key shows: in a text a server sent or logged, or in a file under `base`."""
    secret_half = CANARY_KEY.split(":")[1]
    found = [f"text: {text[:200]}" for text in texts if secret_half in text]
    files = [path for path in base.rglob("*") if path.is_file() and not path.is_symlink()]
    return found + [f"file: {path}" for path in files if secret_half.encode() in path.read_bytes()]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The whole suite's key search, once every test process has left its records (see test_canary.py).

    It runs here, in the process that started the run, because under `-n 2` each worker saw only its half."""
    if hasattr(session.config, "workerinput"):
        return  # a worker: its records are in its folder, which the starting process searches
    factory: pytest.TempPathFactory | None = getattr(session.config, "_tmp_path_factory", None)
    if factory is None or session.testscollected == 0:
        return
    base = factory.getbasetemp()
    dumps = list(base.rglob(EMITTED_FILE))
    texts = [text for dump in dumps for part in json.loads(dump.read_text()).values() for text in part]
    leaks = key_leaks(texts, base)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if leaks:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if reporter is not None:
        files = sum(1 for path in base.rglob("*") if path.is_file())
        verdict = "LEAKED:\n  " + "\n  ".join(leaks) if leaks else "found 0 times"
        processes = f"{len(dumps)} test process" + ("es" if len(dumps) != 1 else "")
        reporter.write("\n")
        reporter.write_sep("=", "the canary key, across the whole run")
        reporter.write_line(
            f"canary key: searched {len(texts)} messages and log lines from {processes} and {files} files: {verdict}"
        )
