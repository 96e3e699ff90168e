"""`seedance-mcp --http`: the same server over streamable HTTP, for a team."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import CANARY_KEY, RecordingClient
from tests.fake_fal import FakeFal
from tests.test_stdio import command

pytestmark = pytest.mark.anyio


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def http_server(fake_fal: FakeFal, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "FAL_KEY": CANARY_KEY,
        "SEEDANCE_FAL_QUEUE_URL": fake_fal.url,
        "SEEDANCE_HOME": str(tmp_path / "home"),
    }
    log = (tmp_path / "stderr.log").open("w")
    process = subprocess.Popen([command(), "--http", "--port", str(port)], env=env, stderr=log, stdout=log)
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError((tmp_path / "stderr.log").read_text()) from None
            time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


async def test_a_generation_over_streamable_http(http_server: str, fake_fal: FakeFal):
    async with RecordingClient(http_server) as client:
        names = [tool.name for tool in (await client.list_tools()).tools]
        result = await client.call_tool("generate_text_video", {"prompt": "over http", "duration": "4"})
    assert "generate_text_video" in names
    assert result.structured_content and result.structured_content["status"] == "completed"
    assert fake_fal.only_job().input["duration"] == "4"
