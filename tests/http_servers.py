"""`seedance-mcp --http` in its own process, as an operator starts it: one server, or replicas of one."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import psycopg
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.conftest import RecordingClient, subprocess_env
from tests.fake_fal import FakeFal
from tests.test_stdio import command

START_SECONDS = 30.0  # a generous bound for a server to open its port; it is met in about a second
PORT_TRIES = 5  # a port chosen before the start may be taken meanwhile: so many are tried
LISTENING = re.compile(r"Uvicorn running on http://\S+:(\d+) ")  # uvicorn's line once it has bound the port


LEGACY_VERSION = "2025-11-25"
LEGACY_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
# A 2025-11-25 `initialize`, posted by hand where a test reads the HTTP answer itself.
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": LEGACY_VERSION, "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(fake: FakeFal, folder: Path, *args: str, **env: str) -> tuple[subprocess.Popen[bytes], int]:
    """The server on a port the system gives it as it binds (`--port 0`), once it listens there (or has
    exited), and that port: no other process can take it between its choice and the bind. Its output goes
    to `folder/stderr.log`, its home and videos under `folder`."""
    return start_on(0, fake, folder, *args, **env)


def start_on(port: int, fake: FakeFal, folder: Path, *args: str, **env: str) -> tuple[subprocess.Popen[bytes], int]:
    """The same on a port chosen before (0: any), for a server whose URL must be known first (sign-in's
    resource). Ready is when this process says it listens, not when something answers on the port."""
    if env.get("SEEDANCE_LOG_LEVEL", "INFO").upper() not in ("DEBUG", "INFO"):
        raise ValueError("a server says where it listens in an INFO line: start it at INFO or DEBUG")
    folder.mkdir(parents=True, exist_ok=True)
    environment = subprocess_env(folder, **{"FAL_KEY": fake.key, "SEEDANCE_FAL_QUEUE_URL": fake.url, **env})
    log_path = folder / "stderr.log"
    with log_path.open("a") as log:
        before = log.tell()
        process = subprocess.Popen(
            [command(), "--http", "--port", str(port), *args], env=environment, stderr=log, stdout=log
        )
    deadline = time.monotonic() + START_SECONDS
    while process.poll() is None:
        with log_path.open() as log:
            log.seek(before)
            listening = LISTENING.search(log.read())
        if listening:
            return process, int(listening[1])
        if time.monotonic() > deadline:
            process.kill()
            break
        time.sleep(0.05)
    return process, port


def start_named(
    fake: FakeFal, folder: Path, settings_for: Callable[[int], dict[str, str]], *args: str
) -> tuple[subprocess.Popen[bytes], int]:
    """The server on a port chosen before it starts, for settings that name its own URL (`settings_for` the
    port): should another process take that port first, another is chosen."""
    for _ in range(PORT_TRIES):
        port = free_port()
        process, _ = start_on(port, fake, folder, *args, **settings_for(port))
        if process.poll() is None or not port_was_taken(folder):
            break
    return process, port


def port_was_taken(folder: Path) -> bool:
    """Whether the server in `folder` stopped because another process held the port it was given."""
    return "address already in use" in (folder / "stderr.log").read_text()


@asynccontextmanager
async def mcp_over_http(
    url: str,
    *,
    timeout: float,
    token: str | None = None,
    transport: httpx2.AsyncBaseTransport | None = None,
    **client: Any,
) -> AsyncIterator[Client]:
    """An MCP client over streamable HTTP, with a bearer token, or through another transport (a balancer)."""
    headers = {"Authorization": f"Bearer {token}"} if token is not None else None
    async with (
        httpx2.AsyncClient(headers=headers, transport=transport, timeout=timeout) as http,
        RecordingClient(streamable_http_client(url, http_client=http), **client) as session,
    ):
        yield session


def wait_until(condition: Callable[[], bool], what: str, seconds: float = 60.0) -> None:
    """Wait for something another process does; the bound only turns a hang into a failure."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


@dataclass
class Replica:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    folder: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    def log(self) -> str:
        return (self.folder / "stderr.log").read_text()

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def pause(self) -> None:
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.resume()
            self.process.terminate()
            self.process.wait(timeout=20)


def replica(fake: FakeFal, folder: Path, number: int, database_url: str, **env: str) -> Replica:
    """Replica `number`, started in `folder/r<number>` on the shared ledger, once it listens."""
    where = folder / f"r{number}"
    process, port = start(fake, where, SEEDANCE_DATABASE_URL=database_url, **env)
    started = Replica(f"r{number}", process, port, where)
    assert process.poll() is None, started.log()
    return started


def column(database_url: str, request_id: str, name: str) -> Any:
    """One column of a job's row, read straight from the shared ledger."""
    with psycopg.connect(database_url) as db:
        row = db.execute(f"SELECT {name} FROM jobs WHERE request_id = %s", (request_id,)).fetchone()
    return None if row is None else row[0]


def follower_of(servers: list[Replica], database_url: str, request_id: str) -> Replica:
    """The replica whose process the ledger names as the job's follower."""
    follower = column(database_url, request_id, "follower") or ""
    (found,) = [r for r in servers if f":{r.process.pid}:" in follower]
    return found


def requests_for(fake: FakeFal, request_id: str) -> list[str]:
    """The kinds of request fal's fake saw for one job, in order."""
    with fake.lock:
        return [kind for kind, path in fake.requests if request_id in path]


@contextmanager
def replicas(
    fake: FakeFal,
    folder: Path,
    database_url: str,
    count: int = 3,
    own: Mapping[int, Mapping[str, str]] | None = None,
    **env: str,
) -> Iterator[list[Replica]]:
    """`count` servers sharing one PostgreSQL ledger, each with its own home and videos folder, as on
    separate machines. Keyword settings apply to all; `own[n]` to replica n (from 1) alone."""
    started: list[Replica] = []
    try:
        for number in range(1, count + 1):
            started.append(replica(fake, folder, number, database_url, **{**env, **(own or {}).get(number, {})}))
        yield started
    finally:
        for server in started:
            server.stop()


class Balancer(httpx2.AsyncBaseTransport):
    """A load balancer in front of replicas, as a client's transport: each request goes to the next
    replica in turn, skipping any that refuse the connection (it died). `sticky` sends a request that
    carries a session (`Mcp-Session-Id`, 2025-11-25 clients) to the replica that started the session."""

    def __init__(self, servers: list[Replica], *, sticky: bool = False) -> None:
        self._servers = servers
        self._turn = 0
        self._transport = httpx2.AsyncHTTPTransport()
        self._sessions: dict[str, Replica] = {}
        self._sticky = sticky
        self.served: list[str] = []  # which replica took each request, in order

    @property
    def url(self) -> str:
        """The address a client is given; the balancer decides which replica answers."""
        return self._servers[0].url

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        session = request.headers.get("mcp-session-id")
        if self._sticky and session in self._sessions:
            return await self._send(request, self._sessions[session])
        for _ in range(len(self._servers)):
            replica = self._servers[self._turn % len(self._servers)]
            self._turn += 1
            try:
                response = await self._send(request, replica)
            except httpx2.ConnectError:
                continue
            if "mcp-session-id" in response.headers:
                self._sessions[response.headers["mcp-session-id"]] = replica
            return response
        raise httpx2.ConnectError("no replica accepted the connection", request=request)

    async def _send(self, request: httpx2.Request, replica: Replica) -> httpx2.Response:
        request.url = request.url.copy_with(port=replica.port)
        response = await self._transport.handle_async_request(request)
        self.served.append(replica.name)
        return response

    async def aclose(self) -> None:
        await self._transport.aclose()


class LegacySession:
    """A 2025-11-25 streamable HTTP session, request by request."""

    def __init__(self, http: httpx2.AsyncClient, url: str) -> None:
        self.http, self.url, self.id, self.headers = http, url, 0, dict(LEGACY_HEADERS)

    async def __call__(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self.id += 1
        message = {"jsonrpc": "2.0", "id": self.id, "method": method, "params": params or {}}
        response = await self.http.post(self.url, json=message, headers=self.headers)
        if "mcp-session-id" in response.headers:
            session = response.headers["mcp-session-id"]
            self.headers |= {"Mcp-Session-Id": session, "MCP-Protocol-Version": LEGACY_VERSION}
        lines = response.text.splitlines()
        bodies = [json.loads(line[5:]) for line in lines if line.startswith("data:") and line[5:].strip()]
        answer: dict[str, Any] = next(b for b in bodies or [response.json()] if b.get("id") == self.id)
        return answer

    async def start(self) -> dict[str, Any]:
        client = {"name": "t", "version": "0"}
        hello = await self("initialize", {"protocolVersion": LEGACY_VERSION, "capabilities": {}, "clientInfo": client})
        await self.http.post(
            self.url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=self.headers
        )
        result: dict[str, Any] = hello["result"]
        return result
