"""A server behind a real OpenID Connect provider, as the sign-in tests start it, and a person's client."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest
from mcp import Client
from mcp.types import ResourceTemplateReference

from tests.fake_fal import FakeFal
from tests.http_servers import INITIALIZE, mcp_over_http, start, start_named
from tests.identity_provider import IdentityProvider, identity_provider

HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
JOB_TEMPLATE = ResourceTemplateReference(uri="seedance://jobs/{request_id}")
FILM_TEMPLATE = ResourceTemplateReference(uri="seedance://films/{film_id}")
CHEAP = {"duration": "4", "aspect_ratio": "16:9", "wait_seconds": 0}  # $1.2096 on fal
DRAFT = {"model": "seedance-2.5", "draft": True, "duration": "4", "aspect_ratio": "16:9"}  # $0.82 on fal


@dataclass
class Served:
    url: str
    idp: IdentityProvider
    process: subprocess.Popen[bytes]
    folder: Path

    def log(self) -> str:
        return (self.folder / "stderr.log").read_text()


@contextmanager
def signed_in_server(fake: FakeFal, folder: Path, **env: str) -> Iterator[Served]:
    """The server behind the identity provider. Its URL is the resource the tokens are issued for, so its
    port is chosen before it starts; should another process take that port first, another is chosen."""
    with identity_provider(other_resource="http://127.0.0.1:1/elsewhere") as idp:

        def settings(port: int) -> dict[str, str]:
            return {
                "SEEDANCE_OAUTH_ISSUER": idp.issuer,
                "SEEDANCE_OAUTH_RESOURCE": f"http://127.0.0.1:{port}/mcp",
                "SEEDANCE_OAUTH_CLIENT_ID": "seedance-mcp",
                "SEEDANCE_OAUTH_CLIENT_SECRET": "seedance-mcp-secret-0123456789abcdef",
                **env,
            }

        process, port = start_named(fake, folder, settings, "--host", "0.0.0.0")
        resource = f"http://127.0.0.1:{port}/mcp"
        idp.resource = resource
        try:
            assert process.poll() is None, (folder / "stderr.log").read_text()
            yield Served(resource, idp, process, folder)
        finally:
            process.terminate()
            process.wait(timeout=20)


@contextmanager
def another_replica(served: Served, fake: FakeFal, folder: Path, **env: str) -> Iterator[str]:
    """A second server behind the same identity provider, as the balancer's other replica: the same public
    resource, its own port and folder. Its MCP URL."""
    process, port = start(
        fake,
        folder,
        "--host",
        "0.0.0.0",
        SEEDANCE_OAUTH_ISSUER=served.idp.issuer,
        SEEDANCE_OAUTH_RESOURCE=served.url,
        SEEDANCE_OAUTH_CLIENT_ID="seedance-mcp",
        SEEDANCE_OAUTH_CLIENT_SECRET="seedance-mcp-secret-0123456789abcdef",
        **env,
    )
    try:
        assert process.poll() is None, (folder / "stderr.log").read_text()
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(timeout=20)


@asynccontextmanager
async def as_person(served: Served, token: str) -> AsyncIterator[Client]:
    async with mcp_over_http(served.url, token=token, timeout=60) as client:
        yield client


async def post_initialize(served: Served, token: str | None) -> httpx2.Response:
    headers = {**HEADERS, **({"Authorization": f"Bearer {token}"} if token is not None else {})}
    async with httpx2.AsyncClient(timeout=30) as http:
        return await http.post(served.url, json=INITIALIZE, headers=headers)


@pytest.fixture(name="served")
def served_fixture(fake_fal: FakeFal, tmp_path: Path) -> Iterator[Served]:
    with signed_in_server(fake_fal, tmp_path) as server:
        yield server
