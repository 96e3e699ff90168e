"""Three replicas of `seedance-mcp --http`, each its own process, sharing one PostgreSQL ledger behind a
load balancer: a job outlives the replica that started it, identical calls start one job, and the daily
budget holds, whichever replica each call lands on."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import psycopg
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.shared.subscriptions import ResourceUpdated
from mcp.types import CallToolResult, ElicitResult, InputRequiredResult

from tests.conftest import HANG_SECONDS, RecordingClient, text_of
from tests.fake_fal import FakeFal, Phase
from tests.http_servers import (
    Balancer,
    Replica,
    column,
    follower_of,
    mcp_over_http,
    replicas,
    requests_for,
    wait_until,
)
from tests.postgres import PostgresServer

pytestmark = [pytest.mark.anyio, pytest.mark.slow]  # servers in their own processes

KEYS = "9f8e7d6c5b4a39281706f5e4d3c2b1a0-shared-by-every-replica"
FOUR_SECONDS = {"duration": "4", "aspect_ratio": "16:9", "wait_seconds": 0}  # $1.2096 on fal, 720p standard


@pytest.fixture
def database(postgres: PostgresServer) -> str:
    return postgres.fresh_database()


@pytest.fixture
def held(fake_fal: FakeFal) -> FakeFal:
    """Jobs that start generating and stay there until the test lets them finish."""
    fake_fal.plan = [Phase("IN_QUEUE", 0.05, queue_position=0), Phase("IN_PROGRESS", None, log="generating")]
    return fake_fal


@pytest.fixture
def three(held: FakeFal, tmp_path: Path, database: str) -> Iterator[list[Replica]]:
    with replicas(held, tmp_path, database, SEEDANCE_LEASE_SECONDS="3", SEEDANCE_REQUEST_STATE_KEYS=KEYS) as started:
        yield started


@asynccontextmanager
async def through(balancer: Balancer, **client: Any) -> AsyncIterator[Client]:
    """One MCP client whose every request the balancer sends to the next replica."""
    async with mcp_over_http(balancer.url, transport=balancer, timeout=120, **client) as session:
        yield session


async def test_a_job_outlives_the_replica_that_followed_it(held: FakeFal, three: list[Replica], database: str):
    balancer = Balancer(three)
    async with through(balancer) as client:
        started = await client.call_tool("generate_text_video", {"prompt": "a relay race", **FOUR_SECONDS})
        assert started.structured_content, text_of(started)
        request_id = started.structured_content["request_id"]
        wait_until(lambda: "stream" in requests_for(held, request_id) and held.job(request_id).started, "the stream")
        # The follower hears that fal started it a moment after fal did: kill it once the ledger says so.
        wait_until(lambda: column(database, request_id, "status") == "in_progress", "the ledger to say it generates")
        killed = follower_of(three, database, request_id)
        killed.kill()

        during = await client.call_tool("get_job", {"request_id": request_id, "wait_seconds": 0})
        assert during.structured_content and during.structured_content["status"] == "in_progress", text_of(during)
        wait_until(lambda: requests_for(held, request_id).count("stream") == 2, "another replica to follow")
        successor = follower_of(three, database, request_id)
        held.advance(request_id)
        done = await client.call_tool("get_job", {"request_id": request_id, "wait_seconds": 60})

    assert done.structured_content and done.structured_content["status"] == "completed", text_of(done)
    assert successor is not killed
    assert held.count("submit") == 1  # nothing submitted twice
    assert sorted(requests_for(held, request_id)) == ["result", "stream", "stream"]  # 4 at most, +1 per takeover
    assert {killed.name} | set(balancer.served) == {r.name for r in three}  # every replica served the client


async def test_a_stalled_replica_loses_its_job_when_the_lease_runs_out_and_leaves_it(
    held: FakeFal, three: list[Replica], database: str
):
    async with through(Balancer(three)) as client:
        started = await client.call_tool("generate_text_video", {"prompt": "a frozen lake", **FOUR_SECONDS})
    assert started.structured_content, text_of(started)
    request_id = started.structured_content["request_id"]
    wait_until(lambda: "stream" in requests_for(held, request_id) and held.job(request_id).started, "the stream")
    stalled = follower_of(three, database, request_id)
    stalled.pause()  # alive but silent, as behind a network partition: only its lease can tell
    successor = taken_over_and_finished(held, three, database, request_id, stalled)

    assert successor is not stalled
    assert held.count("submit") == 1
    assert sorted(requests_for(held, request_id)) == ["result", "stream", "stream"]  # the stalled one fetched none


async def test_a_replica_stalled_inside_a_transaction_does_not_hold_its_job_for_ever(
    held: FakeFal, three: list[Replica], database: str
):
    """Paused between a renewal's UPDATE and its COMMIT, a replica holds the job's row lock: every other
    replica's takeover waits on it, until the database ends the stalled session."""
    async with RecordingClient(three[0].url) as client:
        started = await client.call_tool("generate_text_video", {"prompt": "a still pond", **FOUR_SECONDS})
    assert started.structured_content, text_of(started)
    request_id = started.structured_content["request_id"]
    wait_until(lambda: "stream" in requests_for(held, request_id) and held.job(request_id).started, "the stream")
    stalled = follower_of(three, database, request_id)
    # The follower's next renewal waits on this lock, inside its transaction; once the lock is let go, its
    # UPDATE runs, and the paused follower never sends its COMMIT.
    with psycopg.connect(database) as db, db.transaction():
        db.execute("SELECT 1 FROM jobs WHERE request_id = %s FOR UPDATE", (request_id,))
        wait_until(lambda: waits_on_a_lock(database, stalled), "the follower's renewal to wait on the row")
        stalled.pause()
    successor = taken_over_and_finished(held, three, database, request_id, stalled)

    assert successor is not stalled
    assert held.count("submit") == 1
    assert column(database, request_id, "error") is None  # the stalled one's lost session wrote nothing on it


def taken_over_and_finished(
    held: FakeFal, three: list[Replica], database: str, request_id: str, stalled: Replica
) -> Replica:
    """Once `stalled` is paused: another replica takes the job over (its status stream is opened a second
    time) and finishes it, and the stalled one, resumed, lets go. The replica that took it over."""
    wait_until(lambda: requests_for(held, request_id).count("stream") == 2, "another to take over", seconds=120)
    successor = follower_of(three, database, request_id)
    held.advance(request_id)
    wait_until(lambda: column(database, request_id, "status") == "completed", "the job to finish")
    stalled.resume()
    wait_until(lambda: "another replica took it over" in stalled.log(), "the stalled replica to let go")
    return successor


def waits_on_a_lock(database_url: str, replica: Replica) -> bool:
    """Whether one of `replica`'s ledger connections waits for a lock, as pg_stat_activity shows it."""
    with psycopg.connect(database_url) as db:
        row = db.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE %s AND wait_event_type = 'Lock'",
            (f"seedance-mcp:%:{replica.process.pid}",),
        ).fetchone()
    return bool(row and row[0])


async def test_a_subscriber_on_another_replica_hears_that_the_job_finished(
    held: FakeFal, three: list[Replica], database: str
):
    async with RecordingClient(three[0].url) as client:
        started = await client.call_tool("generate_text_video", {"prompt": "a distant bell", **FOUR_SECONDS})
    assert started.structured_content, text_of(started)
    request_id, uri = started.structured_content["request_id"], started.structured_content["job_uri"]
    wait_until(lambda: "stream" in requests_for(held, request_id) and held.job(request_id).started, "the stream")
    elsewhere = next(r for r in three if r is not follower_of(three, database, request_id))
    async with RecordingClient(elsewhere.url) as client, client.listen(resource_subscriptions=[uri]) as subscription:
        held.advance(request_id)
        with anyio.fail_after(HANG_SECONDS):
            event = await subscription.__anext__()
    assert event == ResourceUpdated(uri=uri)


async def test_identical_calls_on_different_replicas_start_one_job(held: FakeFal, three: list[Replica]):
    prompts = ["a kite", "a comet", "a lantern", "a tide"]
    answers: dict[str, set[str]] = {prompt: set() for prompt in prompts}

    async def call(replica: Replica, prompt: str) -> None:
        async with RecordingClient(replica.url) as client:
            result = await client.call_tool("generate_text_video", {"prompt": prompt, **FOUR_SECONDS})
        assert result.structured_content, text_of(result)
        answers[prompt].add(result.structured_content["request_id"])

    async with anyio.create_task_group() as tg:
        for prompt in prompts:
            for replica in three:  # the same call on all three at once
                tg.start_soon(call, replica, prompt)

    assert held.count("submit") == len(prompts)
    assert all(len(ids) == 1 for ids in answers.values()), answers


async def test_more_calls_at_once_than_a_replica_has_connections_all_start(held: FakeFal, three: list[Replica]):
    """Each submit holds a claim while it is sent; claims have connections of their own, so that many
    at once cannot take every connection their own ledger writes wait for."""
    calls = 3 * 10  # three times a replica's pool

    async def call(client: Client, number: int) -> None:
        result = await client.call_tool("generate_text_video", {"prompt": f"crowd {number}", **FOUR_SECONDS})
        assert result.structured_content and result.structured_content["status"] == "queued", text_of(result)

    async with RecordingClient(three[0].url) as client, anyio.create_task_group() as tg:
        for number in range(calls):
            tg.start_soon(call, client, number)

    assert held.count("submit") == calls


async def test_the_daily_budget_holds_when_calls_race_on_three_replicas(held: FakeFal, tmp_path: Path, database: str):
    refusals: list[str] = []

    async def call(replica: Replica, prompt: str) -> None:
        async with RecordingClient(replica.url) as client:
            result = await client.call_tool("generate_text_video", {"prompt": prompt, **FOUR_SECONDS})
        if result.is_error:
            refusals.append(text_of(result))

    with replicas(held, tmp_path, database, SEEDANCE_DAILY_BUDGET_USD="3") as servers:  # room for 2 at $1.21
        async with anyio.create_task_group() as tg:
            for number in range(9):
                tg.start_soon(call, servers[number % 3], f"shot {number}")

    assert held.count("submit") == 2
    assert len(refusals) == 7 and all("SEEDANCE_DAILY_BUDGET_USD" in text for text in refusals), refusals


async def test_the_answer_to_a_cost_question_may_reach_another_replica(held: FakeFal, tmp_path: Path, database: str):
    """The question's request_state is sealed with SEEDANCE_REQUEST_STATE_KEYS: any replica holding the
    keys can open it; one with keys of its own refuses it, and nothing is submitted."""

    async def elicit(context: Any, params: Any) -> ElicitResult:
        raise AssertionError("answered through input_responses, not a dialog")

    arguments = {"prompt": "a cathedral at dawn", **FOUR_SECONDS}
    own = {3: {"SEEDANCE_REQUEST_STATE_KEYS": "another-key-0123456789abcdef0123456789abcdef"}}
    with replicas(
        held, tmp_path, database, own=own, SEEDANCE_CONFIRM_ABOVE_USD="1", SEEDANCE_REQUEST_STATE_KEYS=KEYS
    ) as (first, second, stranger):
        async with RecordingClient(first.url, elicitation_callback=elicit) as asking:
            question = await asking.session.call_tool("generate_text_video", arguments, allow_input_required=True)
        assert isinstance(question, InputRequiredResult), question
        (key,) = question.input_requests or {}
        yes: dict[str, Any] = {key: ElicitResult(action="accept", content={"approve": True})}
        answers: list[CallToolResult | MCPError] = []
        for replica in (stranger, second):
            async with RecordingClient(replica.url, elicitation_callback=elicit) as answering:
                try:
                    answers.append(
                        await answering.session.call_tool(
                            "generate_text_video", arguments, input_responses=yes, request_state=question.request_state
                        )
                    )
                except MCPError as exc:
                    answers.append(exc)

    refused, accepted = answers
    assert isinstance(refused, MCPError) and "Invalid or expired requestState" in str(refused), refused
    assert isinstance(accepted, CallToolResult), accepted
    assert accepted.structured_content and accepted.structured_content["request_id"], text_of(accepted)
    assert held.count("submit") == 1


async def test_a_2025_11_25_session_needs_sticky_routing(held: FakeFal, three: list[Replica]):
    """2025-11-25 clients keep a session, which lives in the replica that began it: a balancer that
    routes on Mcp-Session-Id serves them across replicas; one that does not loses the session."""
    held.plan = []  # jobs finish at once
    sticky = Balancer(three, sticky=True)
    async with through(sticky, mode="legacy") as client:
        first = await client.call_tool("generate_text_video", {"prompt": "an old radio", **FOUR_SECONDS})
        again = await client.call_tool("get_job", {"request_id": str((first.structured_content or {})["request_id"])})
    assert again.structured_content and again.structured_content["status"] == "completed", text_of(again)
    assert len(set(sticky.served)) == 1  # every request of the session went to one replica

    with pytest.raises(ExceptionGroup) as lost:
        async with through(Balancer(three), mode="legacy") as client:
            await client.call_tool("estimate_cost", {"mode": "text-to-video", "duration": "4"})
    assert lost.group_contains(MCPError, match="Session not found", depth=None)
