"""A flood from one person across two replicas on one PostgreSQL ledger: at most their cap of paid jobs is
submitted, every other call is refused with the limit's sentence and sends nothing, and another person's
calls still go through."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from mcp.types import CallToolResult

from tests.conftest import text_of
from tests.fake_fal import FakeFal, Phase
from tests.http_servers import mcp_over_http
from tests.postgres import PostgresServer
from tests.signed_in import CHEAP, another_replica, signed_in_server

pytestmark = [pytest.mark.anyio, pytest.mark.slow]  # servers in their own processes

CAP = 3
CALLS = 300
LIMITS = {"SEEDANCE_USER_MAX_JOBS_IN_FLIGHT": str(CAP), "SEEDANCE_USER_CALLS_PER_MINUTE": "0"}


async def test_one_person_flooding_two_replicas_gets_their_cap_and_no_more(
    fake_fal: FakeFal, tmp_path: Path, postgres: PostgresServer
):
    fake_fal.plan = [Phase("IN_QUEUE", 0.01, queue_position=0), Phase("IN_PROGRESS", None, log="generating")]
    database = postgres.fresh_database()
    shared = {"SEEDANCE_DATABASE_URL": database, **LIMITS}
    with (
        signed_in_server(fake_fal, tmp_path / "r1", **shared) as served,
        another_replica(served, fake_fal, tmp_path / "r2", **shared) as second,
    ):
        alice, bob = served.idp.token("alice"), served.idp.token("bob")
        results: list[CallToolResult] = []
        async with (
            mcp_over_http(served.url, token=alice, timeout=300) as one,
            mcp_over_http(second, token=alice, timeout=300) as two,
        ):

            async def call(n: int) -> None:
                client = one if n % 2 else two
                arguments = {"prompt": f"a flood, take {n}", "force_new": True, **CHEAP}
                results.append(await client.call_tool("generate_text_video", arguments))

            async with anyio.create_task_group() as tg:
                for n in range(CALLS):
                    tg.start_soon(call, n)
        async with mcp_over_http(second, token=bob, timeout=300) as other:
            bobs = await other.call_tool("generate_text_video", {"prompt": "bob's own", **CHEAP})

    accepted = [r for r in results if not r.is_error]
    refused = [r for r in results if r.is_error]
    assert len(accepted) == CAP and len(refused) == CALLS - CAP, {text_of(r)[:120] for r in refused}
    assert all(
        f"at most {CAP} at once" in text_of(r) and "SEEDANCE_USER_MAX_JOBS_IN_FLIGHT" in text_of(r) for r in refused
    )
    assert not bobs.is_error, text_of(bobs)
    assert fake_fal.count("submit") == CAP + 1  # alice's cap, and bob's one
