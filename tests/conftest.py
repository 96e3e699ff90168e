from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from server.app import build_server
from server.providers.retry import RetryPolicy
from server.settings import Settings
from tests.fake_fal import FakeFal

CANARY_KEY = "canary-key-5f1e0d9c:0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d"
FAST_RETRY = RetryPolicy(attempts=6, initial_delay=0.05, max_delay=0.4)  # the real policy, on a test's clock


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


@pytest.fixture(scope="session")
def fake_fal_server() -> Iterator[FakeFal]:
    fake = FakeFal(CANARY_KEY).start()
    yield fake
    fake.stop()


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
    )


@asynccontextmanager
async def connect(settings: Settings, **kwargs: Any) -> AsyncIterator[Client]:
    async with Client(build_server(settings), **kwargs) as client:
        yield client


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
