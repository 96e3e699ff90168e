"""What an operator runs a team server with, on real servers in their own processes: the probes (on SQLite,
and on PostgreSQL stopped and started again), draining on SIGTERM across replicas, /metrics parsed with
prometheus-client's own parser, JSON logs, and the cap on live sessions."""

from __future__ import annotations

import json
import shutil
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest

from tests.conftest import RecordingClient, text_of
from tests.fake_fal import FakeFal, Phase
from tests.http_servers import column, replicas, start, wait_until
from tests.postgres import PostgresServer

pytestmark = [pytest.mark.anyio, pytest.mark.slow]  # servers in their own processes

FOUR_SECONDS = {"duration": "4", "aspect_ratio": "16:9"}  # $1.2096 on fal
HELD = [Phase("IN_QUEUE", 0.01, queue_position=0), Phase("IN_PROGRESS", None, log="generating")]


def probe(port: int, path: str) -> tuple[int, dict[str, str]]:
    answer = httpx2.get(f"http://127.0.0.1:{port}{path}", timeout=30)
    return answer.status_code, answer.json()


def answers(port: int, path: str, status: int) -> Callable[[], bool]:
    return lambda: probe(port, path)[0] == status


@pytest.fixture
def served(fake_fal: FakeFal, tmp_path: Path) -> Iterator[Callable[..., int]]:
    """Start servers in the test's folder; each is stopped when the test ends. Gives their ports."""
    started: list[Any] = []

    def serve(name: str = "server", **env: str) -> int:
        process, port = start(fake_fal, tmp_path / name, **env)
        assert process.poll() is None, (tmp_path / name / "stderr.log").read_text()
        started.append(process)
        return port

    yield serve
    for process in started:
        process.terminate()
        process.wait(timeout=30)


def test_the_probes_say_whether_the_server_lives_and_can_work(served: Callable[..., int], tmp_path: Path):
    port = served()
    assert probe(port, "/healthz") == (200, {"status": "ok"})
    assert probe(port, "/readyz") == (200, {"status": "ok", "draining": "ok", "ledger": "ok", "storage": "ok"})

    videos = tmp_path / "server" / "videos"
    shutil.rmtree(videos, ignore_errors=True)
    videos.write_text("a file where the videos folder was")  # the volume went bad
    status, body = probe(port, "/readyz")
    assert status == 503 and body["storage"].startswith("cannot write") and body["ledger"] == "ok", body
    assert probe(port, "/healthz")[0] == 200  # alive all the same: restarting it would not help
    videos.unlink()
    assert probe(port, "/readyz")[0] == 200


def test_readiness_follows_the_database_and_liveness_does_not(served: Callable[..., int]):
    database = PostgresServer()
    database.start()
    try:
        port = served(SEEDANCE_DATABASE_URL=database.fresh_database())
        assert probe(port, "/readyz")[0] == 200
        database.halt()
        wait_until(answers(port, "/readyz", 503), "readiness to fail with the database")
        status, body = probe(port, "/readyz")
        assert status == 503 and body["ledger"] != "ok" and body["storage"] == "ok", body
        assert "postgresql://" not in json.dumps(body)
        assert probe(port, "/healthz")[0] == 200
        database.resume()
        wait_until(answers(port, "/readyz", 200), "readiness to come back with the database")
    finally:
        database.stop()


async def test_sigterm_drains_hands_the_call_its_job_and_another_replica_finishes_it(
    fake_fal: FakeFal, tmp_path: Path, postgres: PostgresServer
):
    fake_fal.plan = list(HELD)
    fake_fal.submits_held = threading.Event()
    database = postgres.fresh_database()
    with replicas(  # the drain and the submit wait as long as the test makes them
        fake_fal,
        tmp_path,
        database,
        count=2,
        SEEDANCE_LEASE_SECONDS="3",
        SEEDANCE_DRAIN_SECONDS="600",
        SEEDANCE_FAL_TIMEOUT_SECONDS="600",
    ) as (stopping, _other):
        handed: list[Any] = []
        async with RecordingClient(stopping.url) as client, anyio.create_task_group() as tg:

            async def call() -> None:  # waits for its video for up to the longest a call may
                handed.append(await client.call_tool("generate_text_video", {"prompt": "a slow tide", **FOUR_SECONDS}))

            tg.start_soon(call)
            await until(lambda: fake_fal.count("submit") == 1, "the submit to reach the host")  # it is held there
            stopping.process.send_signal(signal.SIGTERM)
            await until(answers(stopping.port, "/readyz", 503), "readiness to fail once stopping")
            assert probe(stopping.port, "/healthz")[0] == 200
            async with RecordingClient(stopping.url) as late:
                refused = await late.call_tool("generate_text_video", {"prompt": "too late", **FOUR_SECONDS})
            fake_fal.submits_held.set()  # the host answers; the call waits for the job, then is told to stop
        assert stopping.process.wait(timeout=60) == 0, stopping.log()
        (result,) = handed
        assert result.structured_content, text_of(result)
        assert result.structured_content["status"] in ("queued", "in_progress")
        request_id = result.structured_content["request_id"]
        fake_fal.advance(request_id)
        wait_until(lambda: column(database, request_id, "status") == "completed", "the other replica to finish it")

    assert refused.is_error and "stopping" in text_of(refused) and "Retry this same call" in text_of(refused)
    assert fake_fal.count("submit") == 1  # the refused call sent nothing
    assert "draining: 1 tool calls in progress" in stopping.log()


async def until(condition: Callable[[], bool], what: str) -> None:
    """`wait_until` for a test whose client runs meanwhile."""
    with anyio.fail_after(120, shield=False):
        while not condition():
            await anyio.sleep(0.02)
