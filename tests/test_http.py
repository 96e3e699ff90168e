"""`seedance-mcp --http`: the same server over streamable HTTP, for a team, and locked down."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import httpx2
import pytest

from server.transport.http import allowed_hosts
from tests.conftest import RecordingClient
from tests.fake_fal import FakeFal
from tests.http_servers import INITIALIZE, mcp_over_http, start

pytestmark = [pytest.mark.anyio, pytest.mark.slow]  # a server in its own process

TOKEN = "team-token-6c1f0b2e9d8a7c6b5a4f3e2d"


async def test_a_generation_over_streamable_http(
    fake_fal: FakeFal, tmp_path: Path, processes: list[subprocess.Popen[bytes]]
):
    process, port = start(fake_fal, tmp_path)
    processes.append(process)
    async with RecordingClient(f"http://127.0.0.1:{port}/mcp") as client:
        names = [tool.name for tool in (await client.list_tools()).tools]
        result = await client.call_tool("generate_text_video", {"prompt": "over http", "duration": "4"})
    assert "generate_text_video" in names
    assert result.structured_content and result.structured_content["status"] == "completed"
    assert fake_fal.only_job().input["duration"] == "4"


def test_a_non_loopback_bind_without_a_token_is_refused(fake_fal: FakeFal, tmp_path: Path):
    process, _ = start(fake_fal, tmp_path, "--host", "0.0.0.0")
    assert process.wait(timeout=10) != 0
    assert "SEEDANCE_HTTP_TOKEN" in (tmp_path / "stderr.log").read_text()


async def test_with_a_token_every_request_needs_it(
    fake_fal: FakeFal, tmp_path: Path, processes: list[subprocess.Popen[bytes]]
):
    process, port = start(fake_fal, tmp_path, "--host", "0.0.0.0", SEEDANCE_HTTP_TOKEN=TOKEN)
    processes.append(process)
    url = f"http://127.0.0.1:{port}/mcp"
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    async with httpx2.AsyncClient(timeout=10) as http:
        missing = await http.post(url, json=INITIALIZE, headers=headers)
        wrong = await http.post(
            url, json=INITIALIZE, headers={**headers, "Authorization": "Bearer " + TOKEN[:-1] + "x"}
        )
        basic = await http.post(url, json=INITIALIZE, headers={**headers, "Authorization": TOKEN})
        right = await http.post(url, json=INITIALIZE, headers={**headers, "Authorization": f"Bearer {TOKEN}"})
    assert (missing.status_code, wrong.status_code, basic.status_code) == (401, 401, 401)
    assert missing.headers["www-authenticate"] == "Bearer"
    assert right.status_code == 200

    async with mcp_over_http(url, token=TOKEN, timeout=30) as client:
        result = await client.call_tool(
            "estimate_cost", {"mode": "text-to-video", "duration": "10", "aspect_ratio": "16:9"}
        )
        made = await client.call_tool("generate_text_video", {"prompt": "for the team", "duration": "4"})
    assert result.structured_content and result.structured_content["min_usd"] == 3.024
    with sqlite3.connect(tmp_path / "home" / "jobs.sqlite3") as ledger:
        owners = ledger.execute("SELECT owner FROM jobs").fetchall()
    assert made.structured_content and owners == [("token",)]  # the shared token's jobs are the team's


async def test_foreign_hosts_origins_and_oversized_bodies_are_refused(
    fake_fal: FakeFal, tmp_path: Path, processes: list[subprocess.Popen[bytes]]
):
    process, port = start(fake_fal, tmp_path, SEEDANCE_HTTP_MAX_BODY_MB="1")
    processes.append(process)
    url = f"http://127.0.0.1:{port}/mcp"
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    big = {**INITIALIZE, "params": {**INITIALIZE["params"], "padding": "x" * (2 * 1024 * 1024)}}  # type: ignore[dict-item]
    async with httpx2.AsyncClient(timeout=10) as http:
        rebound = await http.post(url, json=INITIALIZE, headers={**headers, "Host": "evil.example"})
        foreign = await http.post(url, json=INITIALIZE, headers={**headers, "Origin": "http://evil.example"})
        local_page = await http.post(url, json=INITIALIZE, headers={**headers, "Origin": f"http://localhost:{port}"})
        oversized = await http.post(url, json=big, headers=headers)
    assert rebound.status_code == 421
    assert foreign.status_code == 403
    assert local_page.status_code == 200
    assert oversized.status_code == 413


def test_the_allow_list_covers_loopback_the_bound_address_and_configured_names():
    assert allowed_hosts("127.0.0.1", ()) == [
        "127.0.0.1",
        "127.0.0.1:*",
        "localhost",
        "localhost:*",
        "[::1]",
        "[::1]:*",
    ]
    hosts = allowed_hosts("0.0.0.0", ("mcp.team.internal", "10.0.0.5:8000"))
    assert "mcp.team.internal:*" in hosts and "10.0.0.5:8000" in hosts and "0.0.0.0:*" not in hosts
    assert "192.168.1.10:*" in allowed_hosts("192.168.1.10", ())
