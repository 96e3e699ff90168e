"""Many jobs at once across three replicas on one PostgreSQL: with the hosts' webhooks, and without them.

Every job is submitted with `wait_seconds=0` and nobody waits on it, as when a model starts many and comes
back later. The fake fal plays each job 30 times faster than a typical one (10 s queued, 90 s generating,
a keep-alive every 15 s), so a run of 1,000 fits in a minute. With webhooks, `SEEDANCE_PUBLIC_URL` names a
balancer in front of the replicas, as it names a team's, and the fallback is 300 s / 30.

Measured per run: each replica's CPU and peak memory, requests to fal per job, ledger transactions per
job, and the time from fal completing a job to the ledger holding its result (p50, p99). Two more runs of
1,000 with webhooks: one kills a replica (SIGKILL, then a new one starts, as Kubernetes would) once every
job is submitted, and one restarts PostgreSQL then. In each, every job fal holds must end in the ledger,
and no prompt may reach fal twice.
"""

from __future__ import annotations

import multiprocessing
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import anyio
import psycopg
from mcp import Client

from bench.balancer import Balancer
from bench.fake import job_plan
from bench.proc import cpu_seconds, peak_mb
from bench.replicas import ENV, REPLICAS
from tests.fake_fal import FakeFal
from tests.http_servers import Replica, replica
from tests.postgres import PostgresServer, postgres_server

SPEED = 30.0
QUEUED_SECONDS, GENERATING_SECONDS, PING_SECONDS = 10.0, 90.0, 15.0  # a typical fal job, before the speed-up
FALLBACK_SECONDS = 300.0 / SPEED
SIZES = (100, 1000)
IN_FLIGHT = 60  # submitting calls at once, spread over the replicas
FINISH_SECONDS = 300.0  # the bound on a run: every job ends well within it
OUTAGE_SECONDS = 2.0  # how long PostgreSQL stays down in the restart run
Fault = Literal["replica", "database"] | None


@dataclass
class Slot:
    """One replica's place behind the balancer, and the CPU of the processes that held it before."""

    server: Replica
    cpu_before: float = 0.0
    earlier_cpu: float = 0.0
    earlier_peak: float = 0.0

    def cpu(self) -> float:
        return self.earlier_cpu + cpu_seconds(self.server.process.pid) - self.cpu_before

    def peak(self) -> float:
        return max(self.earlier_peak, peak_mb(self.server.process.pid))


class Team:
    """Three replicas on one database, behind a balancer for the hosts' calls when webhooks are on."""

    def __init__(self, fake: FakeFal, folder: Path, database: str, webhooks: bool) -> None:
        self._fake, self._folder, self._database = fake, folder, database
        self.balancer = Balancer(lambda: [f"http://127.0.0.1:{s.server.port}" for s in self.slots])
        self._env = {
            **ENV,
            "SEEDANCE_USER_MAX_JOBS_IN_FLIGHT": "0",
            "SEEDANCE_USER_CALLS_PER_MINUTE": "0",
            "SEEDANCE_WEBHOOK_FALLBACK_SECONDS": f"{FALLBACK_SECONDS:g}",
        }
        if webhooks:
            self._env |= {"SEEDANCE_PUBLIC_URL": self.balancer.url, "SEEDANCE_FAL_JWKS_URL": fake.jwks_url}
        self._started = 0
        self.slots = [Slot(self._launch()) for _ in range(REPLICAS)]
        for slot in self.slots:
            slot.cpu_before = cpu_seconds(slot.server.process.pid)

    def _launch(self) -> Replica:
        self._started += 1
        return replica(self._fake, self._folder, self._started, self._database, **self._env)

    def kill_and_replace(self, number: int) -> None:
        slot = self.slots[number]
        slot.earlier_cpu, slot.earlier_peak = slot.cpu(), slot.peak()
        slot.server.kill()
        slot.server = self._launch()
        slot.cpu_before = cpu_seconds(slot.server.process.pid)

    def stop(self) -> None:
        for slot in self.slots:
            slot.server.stop()
        self.balancer.stop()


def _transactions(database: str) -> int:
    """Transactions the database has run, as its statistics say (each statement outside one is one)."""
    with psycopg.connect(database, autocommit=True) as db:
        db.execute("SELECT pg_stat_clear_snapshot()")
        row = db.execute(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
    return int(row[0]) if row else 0


def _submit(urls: list[str], size: int) -> tuple[list[str], int]:
    """Every job's request id, and how many calls failed; each call returns as soon as its job is submitted.
    Run in a process of its own, as the callers are: this one's is the fake fal's and the balancer's."""
    return anyio.run(_submit_all, urls, size)


async def _submit_all(urls: list[str], size: int) -> tuple[list[str], int]:
    limiter = anyio.CapacityLimiter(IN_FLIGHT)
    request_ids: list[str] = []
    failed = 0
    async with AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(Client(url)) for url in urls]

        async def one(number: int) -> None:
            nonlocal failed
            arguments = {"prompt": f"job {number}", "duration": "4", "aspect_ratio": "16:9", "wait_seconds": 0}
            async with limiter:
                result = await clients[number % REPLICAS].call_tool("generate_text_video", arguments)
            job = result.structured_content or {}
            if "request_id" in job:
                request_ids.append(str(job["request_id"]))
            else:
                failed += 1

        async with anyio.create_task_group() as tg:
            for number in range(size):
                tg.start_soon(one, number)
    return request_ids, failed


def _finished(database: str, request_ids: list[str]) -> dict[str, float]:
    """The jobs the ledger holds as finished, with when they finished."""
    with psycopg.connect(database, autocommit=True) as db:
        rows = db.execute(
            "SELECT request_id, finished_at FROM jobs WHERE request_id = ANY(%s) AND finished_at IS NOT NULL",
            (request_ids,),
        ).fetchall()
    return {str(r[0]): float(r[1]) for r in rows}


def _sending(database: str) -> int:
    with psycopg.connect(database, autocommit=True) as db:
        row = db.execute("SELECT count(*) FROM submissions WHERE outcome = 'sending'").fetchone()
    return int(row[0]) if row else 0


def run(fake: FakeFal, postgres: PostgresServer, size: int, webhooks: bool, fault: Fault = None) -> dict[str, Any]:
    fake.reset()
    fake.plan = job_plan(QUEUED_SECONDS / SPEED, GENERATING_SECONDS / SPEED)
    fake.ping_seconds = PING_SECONDS / SPEED
    database = postgres.fresh_database()
    clock_offset = time.time() - time.monotonic()  # the fake's clock is this process's monotonic one
    with tempfile.TemporaryDirectory() as folder:
        team = Team(fake, Path(folder), database, webhooks)
        try:
            before = _transactions(database)
            started = time.monotonic()
            with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as callers:
                urls = [slot.server.url for slot in team.slots]
                request_ids, failed = callers.submit(_submit, urls, size).result()
            submitted = time.monotonic() - started
            if fault == "replica":
                team.kill_and_replace(1)
            elif fault == "database":
                postgres.halt()
                time.sleep(OUTAGE_SECONDS)
                postgres.resume()
            polls = 0
            deadline = time.monotonic() + FINISH_SECONDS
            while len(finished := _finished(database, request_ids)) < len(request_ids):
                polls += 1
                if time.monotonic() > deadline:
                    break
                time.sleep(0.25)
            wall = time.monotonic() - started
            cpu = [round(slot.cpu(), 1) for slot in team.slots]
            peaks = [round(slot.peak(), 1) for slot in team.slots]
            sending = _sending(database)
        finally:
            team.stop()
        transactions = _transactions(database) - before - (polls + 1) - 1 - 2  # less this benchmark's own reads
    with fake.lock:
        kinds = [kind for kind, _ in fake.requests]
        prompts = [job.input["prompt"] for job in fake.jobs.values()]
        completed_at = {rid: dict(job.changes).get("COMPLETED") for rid, job in fake.jobs.items()}
    latencies = sorted(
        (finished[rid] - (clock_offset + done)) * 1000
        for rid, done in completed_at.items()
        if done is not None and rid in finished
    )
    lost = [rid for rid in fake.jobs if rid not in finished]
    return {
        "jobs": size,
        "webhooks": "on" if webhooks else "off",
        "fault": {"replica": "replica killed", "database": "PostgreSQL restarted"}.get(fault or "", "none"),
        "finished": len(finished),
        "lost": len(lost) - sending,
        "unanswered_submits": sending,
        "double_submissions": len(prompts) - len(set(prompts)),
        "failed_calls": failed,
        "fal_requests_per_job": round(len(kinds) / size, 2),
        "status_streams": kinds.count("stream"),
        "status_reads": kinds.count("status"),
        "result_reads": kinds.count("result"),
        "ledger_transactions_per_job": round(transactions / size, 1),
        "result_latency_p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "result_latency_p99_ms": round(latencies[int(0.99 * (len(latencies) - 1))], 1) if latencies else None,
        "replica_cpu_s": cpu,
        "replica_peak_mb": peaks,
        "submit_s": round(submitted, 1),
        "wall_s": round(wall, 1),
    }


def measure(fake: FakeFal) -> list[dict[str, Any]]:
    fake.webhooks.tick_seconds = 0.05  # scanning 1,000 jobs 50 times a second would be the fake's own load
    fake.webhooks.senders = 32
    rows = []
    with postgres_server() as postgres:
        for webhooks in (True, False):
            for size in SIZES:
                rows.append(run(fake, postgres, size, webhooks))
        rows.append(run(fake, postgres, SIZES[-1], True, "replica"))
        rows.append(run(fake, postgres, SIZES[-1], True, "database"))
    return rows
