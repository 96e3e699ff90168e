from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, ClassVar

import pytest
from mcp import Client
from mcp.shared.dispatcher import ProgressFnT
from mcp.types import CallToolResult, ReadResourceResult, TextContent

from server.app import build_server
from server.ledger.sqlite import SqliteLedger
from server.preview.render import RenderSpec, render
from server.settings import RetryPolicy, Settings
from server.trust import Trust
from tests.fake_fal import FakeFal
from tests.fake_hosts import FakeArk, FakeRunflow
from tests.hosts import ArkHost, FalHost, Host, RunflowHost
from tests.loopback import HttpsServer, https_server
from tests.networks import LoopbackOnly, Resolver
from tests.postgres import PostgresServer, postgres_server

REPO = Path(__file__).resolve().parent.parent
CANARY_KEY = "canary-key-5f1e0d9c:0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d"
FAST_RETRY = RetryPolicy(attempts=6, initial_delay=0.05, max_delay=0.4)  # the real policy, on a test's clock


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


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--screenshots", metavar="DIR", help="save the browser tests' screenshots here (as docs/ does)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The canary test reads what every other test made the server emit, so it runs last."""
    items.sort(key=lambda item: item.get_closest_marker("last") is not None)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Neither the developer's key nor their ledger may leak into a test."""
    for name in ("FAL_KEY", "FAL_KEY_ID", "FAL_KEY_SECRET", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    for name in list(__import__("os").environ):
        if name.startswith("SEEDANCE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SEEDANCE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SEEDANCE_OUTPUT_DIR", str(tmp_path / "videos"))


@pytest.fixture
def https(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[HttpsServer]:
    """An HTTPS server on 127.0.0.1 with a certificate of its own, which the client trusts for the test."""
    with https_server(tmp_path) as (server, cert_file):
        monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))  # the machine's trust store, as a test sets it
        yield server


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server, one per test process; each test takes a fresh database from it."""
    with postgres_server() as server:
        yield server


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The MP4 every fake host's finished jobs link to: a real H.264/AAC file."""
    path = tmp_path_factory.mktemp("cdn") / "output.mp4"
    render(RenderSpec("text-to-video", "what the host made", 864, 496, 4, True, seed=1), path)
    return path.read_bytes()


def _serving(fake: Any, clip: bytes) -> Iterator[Any]:
    fake.video = clip
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def fake_fal_server(clip: bytes) -> Iterator[FakeFal]:
    yield from _serving(FakeFal(CANARY_KEY), clip)


@pytest.fixture(scope="session")
def fake_runflow_server(clip: bytes) -> Iterator[FakeRunflow]:
    yield from _serving(FakeRunflow(CANARY_KEY), clip)


@pytest.fixture(scope="session")
def fake_ark_server(clip: bytes) -> Iterator[FakeArk]:
    yield from _serving(FakeArk(CANARY_KEY), clip)


@pytest.fixture
def fake_fal(fake_fal_server: FakeFal) -> FakeFal:
    fake_fal_server.reset()
    return fake_fal_server


@pytest.fixture
def settings(fake_fal: FakeFal, tmp_path: Path) -> Settings:
    return Settings(
        fal_key=CANARY_KEY,
        provider="fal",
        fal_queue_url=fake_fal.url,
        home=tmp_path / "home",
        wait_seconds=10,
        heartbeat_seconds=0.2,
        fal_timeout=2,
        retry=FAST_RETRY,
        fal_rest_url=fake_fal.url,
        allowed_dirs=(tmp_path,),
        output_dir=tmp_path / "videos",
        confirm_above_usd=5.0,  # tests of other things do not stop to ask; test_cost_approval asks
        poll_interval=(0.02, 0.1),
    )


@pytest.fixture(params=["fal", "runflow", "ark"])
def host(
    request: pytest.FixtureRequest,
    fake_fal: FakeFal,
    fake_runflow_server: FakeRunflow,
    fake_ark_server: FakeArk,
) -> Host:
    """Each paid host in turn, its fake reset: the provider-generic tests run once for each."""
    fake_runflow_server.reset()
    fake_ark_server.reset()
    hosts: dict[str, Host] = {
        "fal": FalHost(fake_fal),
        "runflow": RunflowHost(fake_runflow_server),
        "ark": ArkHost(fake_ark_server),
    }
    return hosts[request.param]


def npm_ci(folder: Path, packages: tuple[str, ...]) -> Path:
    """`folder` with its npm packages installed from its lock file (once; later runs find them there)."""
    npm = shutil.which("npm")
    assert shutil.which("node") and npm, "these tests need Node.js and npm on PATH"
    if not all((folder / "node_modules" / package).is_dir() for package in packages):
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=folder, check=True, capture_output=True, timeout=600)
    return folder


@pytest.fixture(scope="session")
def node_packages() -> Path:
    """tests/ts: the official TypeScript MCP client and the MCP Bundle CLI."""
    return npm_ci(Path(__file__).parent / "ts", ("@modelcontextprotocol/sdk", "@anthropic-ai/mcpb"))


UI_PACKAGES = ("@modelcontextprotocol/ext-apps", "esbuild", "puppeteer-core", "typescript")


@pytest.fixture(scope="session")
def ui_packages() -> Path:
    """ui/: what builds the job card and drives it in a browser."""
    return npm_ci(REPO / "ui", UI_PACKAGES)


def installed_chromium() -> str | None:
    """The Chromium the browser tests and the card's benchmark drive: SEEDANCE_TEST_CHROMIUM, else Debian's."""
    return os.environ.get("SEEDANCE_TEST_CHROMIUM") or shutil.which("chromium")


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium for the browser tests, installed with apt-get when it is missing and we may."""
    found = installed_chromium()
    if found is None:
        apt = shutil.which("apt-get")
        assert apt and os.geteuid() == 0, (
            "the browser tests need Chromium: apt-get install chromium, or set SEEDANCE_TEST_CHROMIUM to a Chromium"
        )
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run([apt, "update", "-q"], check=True, capture_output=True, env=env, timeout=600)
        subprocess.run([apt, "install", "-y", "-q", "chromium"], check=True, capture_output=True, env=env, timeout=1200)
        found = shutil.which("chromium")
    assert found, "Chromium did not install"
    return found


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Server processes a test started, stopped when it ends."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        process.terminate()
        process.wait(timeout=20)


def subprocess_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment a server subprocess gets: its own home, so nothing lands in the real one."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path / "user-home"),
        "SEEDANCE_HOME": str(tmp_path / "home"),
        "SEEDANCE_OUTPUT_DIR": str(tmp_path / "videos"),
        "SEEDANCE_CONFIRM_ABOVE_USD": "5",
        **extra,
    }


@asynccontextmanager
async def connect(settings: Settings, trust: Trust | None = None, **kwargs: Any) -> AsyncIterator[Client]:
    """A client of the server, in memory; callers' host names resolve only as the test maps them."""
    trust = trust or Trust.of(settings, resolver=Resolver(), network=LoopbackOnly())
    async with RecordingClient(build_server(settings, trust), **kwargs) as client:
        yield client


def text_of(result: Any) -> str:
    """The text blocks of a tool result, joined: what the model reads."""
    return "\n".join(block.text for block in getattr(result, "content", []) if isinstance(block, TextContent))


async def read_json(client: Client, uri: str) -> Any:
    """A JSON resource, decoded."""
    contents = (await client.read_resource(uri)).contents
    return json.loads(getattr(contents[0], "text", ""))


class ProgressLog:
    """A progress callback that keeps what it was sent."""

    def __init__(self) -> None:
        self.values: list[float] = []
        self.messages: list[str | None] = []

    async def __call__(self, progress: float, total: float | None, message: str | None) -> None:
        self.values.append(progress)
        self.messages.append(message)


async def add_job(settings: Settings, request_id: str, status: str, result: dict[str, object] | None = None) -> None:
    """A job as the ledger holds it, in the state a test needs, as another process of this server would write it."""
    ledger = SqliteLedger(settings.ledger_path)
    await ledger.add(
        request_id=request_id,
        provider="fal",
        endpoint="bytedance/seedance-2.0/text-to-video",
        mode="text-to-video",
        model="seedance-2.0",
        arguments={"prompt": "earlier"},
        handle={},
        estimate=(1.5, 1.5),
        queue_position=None,
    )
    finished = time.time() if status in ("completed", "failed", "cancelled") else None
    await ledger.update(request_id, status=status, result=result, finished_at=finished)
    await ledger.close()
