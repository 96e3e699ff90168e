from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.types import TextContent

from server.app import build_server
from server.ledger import Ledger
from server.ledger.sqlite import SqliteLedger
from server.preview.render import RenderSpec, render
from server.settings import MAX_WAIT_SECONDS, RetryPolicy, Settings
from server.trust import Trust
from tests.canary import CANARY_KEY, RecordingClient, pytest_sessionfinish, record_logs
from tests.fake_fal import FakeFal
from tests.fake_hosts import FakeArk, FakeRunflow
from tests.hosts import ArkHost, FalHost, Host, RunflowHost
from tests.ledgers import Store
from tests.loopback import HttpsServer, https_server
from tests.networks import LoopbackOnly, Resolver
from tests.object_store import S3Server, s3_server
from tests.postgres import PostgresServer, postgres_server

REPO = Path(__file__).resolve().parent.parent
__all__ = [
    "CANARY_KEY",
    "RecordingClient",
    "pytest_sessionfinish",
    "record_logs",
]  # the canary's hook and fixture, found here by pytest
# The bound on a test's wait for an event: far past anything a busy machine takes, so only a hang reaches it.
HANG_SECONDS = 300.0
FAST_RETRY = RetryPolicy(attempts=6, initial_delay=0.05, max_delay=0.4)  # the real policy, on a test's clock


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
def s3() -> Iterator[S3Server]:
    """A real S3 API server (moto's), one per test process; each test takes a fresh bucket from it."""
    with s3_server() as server:
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
        wait_seconds=MAX_WAIT_SECONDS,  # a call returns when its job ends; only a hang waits this long
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
    """`folder` with its npm packages installed from its lock file (once; later runs find them there).

    The test processes share the folder, and `npm ci` first deletes `node_modules`: one process installs while
    the others wait on a lock, then find the packages there, rather than deleting them under a running test."""
    npm = shutil.which("npm")
    assert shutil.which("node") and npm, "these tests need Node.js and npm on PATH"
    name = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]
    with (Path(tempfile.gettempdir()) / f"seedance-npm-ci-{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # let go when the file closes
        if not all((folder / "node_modules" / package).is_dir() for package in packages):
            install = [npm, "ci", "--no-audit", "--no-fund"]
            subprocess.run(install, cwd=folder, check=True, capture_output=True, timeout=600)
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
        # Tests of other things hold many jobs and make many calls as one person; the limits' own tests
        # (test_limits, test_operations, test_flood) set them, or give "" for the default over HTTP.
        "SEEDANCE_USER_MAX_JOBS_IN_FLIGHT": "0",
        "SEEDANCE_USER_CALLS_PER_MINUTE": "0",
        **extra,
    }


def preview_settings(tmp_path: Path, **changes: Any) -> Settings:
    """The offline preview backend in a test's own folders; each call waits for its render to end."""
    made = Settings(
        provider="local",
        home=tmp_path / "home",
        output_dir=tmp_path / "videos",
        wait_seconds=MAX_WAIT_SECONDS,
        heartbeat_seconds=1,
    )
    return dataclasses.replace(made, **changes)


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


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return Store(request.param, tmp_path, lambda: request.getfixturevalue("postgres"))


@pytest.fixture
async def ledger(store: Store) -> AsyncIterator[Ledger]:
    opened = await store.open()
    try:
        yield opened
    finally:
        await opened.close()
