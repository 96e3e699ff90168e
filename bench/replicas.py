"""Three replicas of `seedance-mcp --http` sharing one PostgreSQL ledger, against the fake fal queue.

- 1,000 jobs spread over the replicas: fal requests per job, wall time, and each replica's peak memory;
- waking: from the ledger write that finishes a job (its `finished_at`, on the follower) to a `get_job`
  waiting on another replica returning, beside one waiting on the follower itself;
- takeover: from SIGKILL of the replica that follows a job to another opening the job's status stream,
  with nobody asking for the job (the sweep finds it when the lease runs out);
- PostgreSQL round trips per tool call, counted in a server run in this process on the same database.

PostgreSQL, the replicas and the fake all run on this machine; every clock read is this machine's.
"""

from __future__ import annotations

import dataclasses
import statistics
import tempfile
import time
from collections.abc import Awaitable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import anyio
from mcp import Client

from bench.fake import job_plan, settings_for
from bench.proc import peak_mb
from server.app import build_server
from server.ledger.postgres import PostgresLedger
from tests.fake_fal import FakeFal, Phase
from tests.http_servers import Replica, column, follower_of, replica, requests_for, wait_until
from tests.postgres import postgres_server

JOBS = 1000
IN_FLIGHT = 60  # calls at once, spread over the replicas
REPLICAS = 3
WAKES = 21
TAKEOVERS = 5
LEASE_SECONDS = 3.0  # the shortest the setting allows, so that takeovers are quick to measure
CALLS = 11  # per tool, for the round trips
IDLE_SECONDS = 5.0
GOAL_WAKE_MS = 50.0
ENV = {
    "SEEDANCE_DOWNLOAD": "0",
    "SEEDANCE_CONFIRM_ABOVE_USD": "1000",
    "SEEDANCE_MAX_USD_PER_JOB": "1000",
    "SEEDANCE_DEDUP_SECONDS": "0",
    "SEEDANCE_LEASE_SECONDS": f"{LEASE_SECONDS:g}",
    "SEEDANCE_REQUEST_STATE_KEYS": "bench-request-state-key-0123456789abcdef0123",
}


def _call(prompt: str, wait: float) -> dict[str, Any]:
    return {"prompt": prompt, "duration": "4", "aspect_ratio": "16:9", "wait_seconds": wait}


class Pool:
    """The replicas, each restartable in its own folder, as machines behind a balancer."""

    def __init__(self, fake: FakeFal, folder: Path, database: str) -> None:
        self._fake, self._folder, self._database = fake, folder, database
        self.replicas = [self._launch(number) for number in range(REPLICAS)]

    def _launch(self, number: int) -> Replica:
        return replica(self._fake, self._folder, number, self._database, **ENV)

    def replace(self, dead: Replica) -> None:
        number = self.replicas.index(dead)
        self.replicas[number] = self._launch(number)

    def follower(self, request_id: str) -> Replica:
        return follower_of(self.replicas, self._database, request_id)

    def finished_at(self, request_id: str) -> float:
        finished = column(self._database, request_id, "finished_at")
        assert finished, request_id
        return float(finished)

    def stop(self) -> None:
        for server in self.replicas:
            server.stop()


async def _thousand(fake: FakeFal, pool: Pool) -> dict[str, Any]:
    fake.reset()
    fake.plan = job_plan(0.05, 0.2)
    fake.ping_seconds = 15
    limiter = anyio.CapacityLimiter(IN_FLIGHT)
    completed = 0
    async with AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(Client(r.url)) for r in pool.replicas]

        async def one(number: int) -> None:
            nonlocal completed
            async with limiter:
                result = await clients[number % REPLICAS].call_tool("generate_text_video", _call(f"job {number}", 120))
            completed += (result.structured_content or {}).get("status") == "completed"

        started = time.monotonic()
        async with anyio.create_task_group() as tg:
            for number in range(JOBS):
                tg.start_soon(one, number)
        wall = time.monotonic() - started
    with fake.lock:
        kinds = [kind for kind, _ in fake.requests]
    return {
        "jobs": JOBS,
        "completed": completed,
        "fal_requests_per_job": round(len(kinds) / JOBS, 3),
        "submits": kinds.count("submit"),
        "status_streams": kinds.count("stream"),
        "status_polls": kinds.count("status"),
        "results": kinds.count("result"),
        "wall_s": round(wall, 1),
        "jobs_per_s": round(JOBS / wall, 1),
        "replica_peak_rss_mb": [round(peak_mb(r.process.pid), 1) for r in pool.replicas],
    }


async def _wakes(fake: FakeFal, pool: Pool) -> dict[str, Any]:
    fake.reset()
    fake.plan = job_plan(0.2, 0.3)
    here: list[float] = []
    there: list[float] = []
    async with AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(Client(r.url)) for r in pool.replicas]
        for run in range(WAKES):
            submitter = clients[run % REPLICAS]
            started = await submitter.call_tool("generate_text_video", _call(f"wake {run}", 0))
            request_id = str((started.structured_content or {})["request_id"])
            follower = pool.replicas.index(pool.follower(request_id))
            other = (follower + 1 + run % (REPLICAS - 1)) % REPLICAS
            arrived: dict[int, float] = {}

            async def wait_on(number: int, request_id: str = request_id, arrived: dict[int, float] = arrived) -> None:
                await clients[number].call_tool("get_job", {"request_id": request_id, "wait_seconds": 30})
                arrived[number] = time.time()

            async with anyio.create_task_group() as tg:
                tg.start_soon(wait_on, follower)
                tg.start_soon(wait_on, other)
            finished = pool.finished_at(request_id)
            here.append((arrived[follower] - finished) * 1000)
            there.append((arrived[other] - finished) * 1000)
    median = statistics.median(there)
    return {
        "runs": WAKES,
        "same_replica_median_ms": round(statistics.median(here), 1),
        "other_replica_median_ms": round(median, 1),
        "other_replica_max_ms": round(max(there), 1),
        "goal_ms": GOAL_WAKE_MS,
        "met": median <= GOAL_WAKE_MS,
    }


async def _takeovers(fake: FakeFal, pool: Pool) -> dict[str, Any]:
    fake.reset()
    fake.plan = [Phase("IN_QUEUE", 0.05, queue_position=0), Phase("IN_PROGRESS", None, log="generating")]
    seconds: list[float] = []
    for run in range(TAKEOVERS):
        async with Client(pool.replicas[run % REPLICAS].url) as client:
            started = await client.call_tool("generate_text_video", _call(f"takeover {run}", 0))
        request_id = str((started.structured_content or {})["request_id"])

        def streams(request_id: str = request_id) -> int:
            return requests_for(fake, request_id).count("stream")

        def followed(request_id: str = request_id) -> bool:
            return streams() == 1 and fake.job(request_id).started

        wait_until(followed, "the job to be followed")
        doomed = pool.follower(request_id)
        killed = time.monotonic()
        doomed.kill()
        wait_until(lambda: streams() == 2, "another replica to take the job over", seconds=60)
        seconds.append(time.monotonic() - killed)
        fake.advance(request_id)
        pool.replace(doomed)
    worst = max(seconds)
    return {
        "kills": TAKEOVERS,
        "lease_s": LEASE_SECONDS,
        "median_s": round(statistics.median(seconds), 2),
        "max_s": round(worst, 2),
        "goal_s": LEASE_SECONDS + 1,
        "met": worst <= LEASE_SECONDS + 1,
    }


async def _round_trips(fake: FakeFal, folder: Path, database: str) -> list[dict[str, Any]]:
    fake.reset()
    fake.plan = job_plan(0.05, 0.1)
    settings = dataclasses.replace(
        settings_for(fake, folder / "in-process"),
        database_url=database,
        request_state_keys=(ENV["SEEDANCE_REQUEST_STATE_KEYS"],),
    )
    counts: dict[str, list[int]] = {}

    async def count(name: str, call: Awaitable[Any]) -> Any:
        before = PostgresLedger.round_trips
        result = await call
        counts.setdefault(name, []).append(PostgresLedger.round_trips - before)
        return result

    async with Client(build_server(settings)) as client:
        for run in range(CALLS):
            made = await count(
                "generate_text_video (waits for its video)",
                client.call_tool("generate_text_video", _call(f"trips {run}", 60)),
            )
            request_id = str((made.structured_content or {})["request_id"])
            await count("get_job (finished)", client.call_tool("get_job", {"request_id": request_id}))
            await count("list_jobs", client.call_tool("list_jobs", {}))
            await count("estimate_cost", client.call_tool("estimate_cost", {"mode": "text-to-video", "duration": "4"}))
        before = PostgresLedger.round_trips
        await anyio.sleep(IDLE_SECONDS)  # nothing asked: the sweep for orphaned jobs, once a second
        idle = (PostgresLedger.round_trips - before) / IDLE_SECONDS
    rows = [{"tool call": tool, "median": statistics.median(n), "max": max(n)} for tool, n in counts.items()]
    return [*rows, {"tool call": "none (idle), per second", "median": round(idle, 2), "max": "-"}]


def measure(fake: FakeFal) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder, postgres_server() as postgres:
        database = postgres.fresh_database()
        pool = Pool(fake, Path(folder), database)
        try:
            thousand = anyio.run(_thousand, fake, pool)
            wakes = anyio.run(_wakes, fake, pool)
            takeovers = anyio.run(_takeovers, fake, pool)
        finally:
            pool.stop()
        trips = anyio.run(_round_trips, fake, Path(folder), postgres.fresh_database())
    return {"jobs": thousand, "wake": wakes, "takeover": takeovers, "round_trips": trips}
