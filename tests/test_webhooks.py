"""Webhooks: with SEEDANCE_PUBLIC_URL set, a job's host calls the server back, and the server believes only
what it can prove.

A real server over HTTP, on loopback, with the fake fal signing its deliveries with a key of the test's own
and serving that key's JWKS. A job nobody watches costs fal its submit and nothing else; a forged, tampered,
stale or foreign delivery changes nothing and gets 401; a repeat is a no-op; a lost one is recovered by
asking fal once the fallback's time has come.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.conftest import HANG_SECONDS, text_of
from tests.fake_ark import FakeArk
from tests.fake_fal import FakeFal, Phase
from tests.fake_runflow import SECRET, FakeRunflow
from tests.fake_task_host import Step
from tests.fake_webhooks import Deliveries, Delivery
from tests.fal_signing import FalSigner
from tests.http_servers import column, mcp_over_http, requests_for, start_named, wait_until
from tests.postgres import PostgresServer

pytestmark = [pytest.mark.anyio, pytest.mark.slow]  # a server in its own process

CHEAP = {"prompt": "a kite over the dunes", "duration": "4", "resolution": "480p", "aspect_ratio": "16:9"}


@dataclass
class Served:
    url: str  # the MCP endpoint
    public: str  # what the hosts call back at
    folder: Path

    def log(self) -> str:
        return (self.folder / "stderr.log").read_text()


@pytest.fixture
def served(fake_fal: FakeFal, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Served]:
    """The server on fal with webhooks on; the test's marker `fallback` sets SEEDANCE_WEBHOOK_FALLBACK_SECONDS."""
    marker = request.node.get_closest_marker("fallback")
    with serving(fake_fal, tmp_path, SEEDANCE_WEBHOOK_FALLBACK_SECONDS=str(marker.args[0]) if marker else "600") as it:
        yield it


@contextmanager
def serving(fake_fal: FakeFal, tmp_path: Path, **env: str) -> Iterator[Served]:
    """A server with webhooks on, called back at the port it listens on (or where `env`'s SEEDANCE_PUBLIC_URL
    says: another replica), with `env` besides."""

    def settings(port: int) -> dict[str, str]:
        return {
            "SEEDANCE_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "SEEDANCE_FAL_JWKS_URL": fake_fal.jwks_url,
            "SEEDANCE_USER_MAX_JOBS_IN_FLIGHT": "0",
            "SEEDANCE_USER_CALLS_PER_MINUTE": "0",
            "SEEDANCE_CONFIRM_ABOVE_USD": "100",
            **env,
        }

    process, port = start_named(fake_fal, tmp_path, settings)
    assert process.poll() is None, (tmp_path / "stderr.log").read_text()
    listening = f"http://127.0.0.1:{port}"
    try:
        yield Served(f"{listening}/mcp", env.get("SEEDANCE_PUBLIC_URL", listening), tmp_path)
    finally:
        process.terminate()
        process.wait(timeout=20)


async def submit(served: Served, **arguments: Any) -> dict[str, Any]:
    async with mcp_over_http(served.url, timeout=60) as client:
        result = await client.call_tool("generate_text_video", {**CHEAP, **arguments})
    assert not result.is_error, text_of(result)
    assert result.structured_content is not None
    return dict(result.structured_content)


async def job_of(served: Served, request_id: str) -> dict[str, Any]:
    async with mcp_over_http(served.url, timeout=60) as client:
        result = await client.call_tool("get_job", {"request_id": request_id, "wait_seconds": 0})
    assert result.structured_content is not None, text_of(result)
    return dict(result.structured_content)


def ended(served: Served, request_id: str, webhooks: Deliveries, answers: int = 1) -> bool:
    """The job is finished in the ledger, and the host has heard the answer to each of its deliveries (the
    answer goes back before the job is ended, but the host notes it on a thread of its own)."""
    return ledger_status(served, request_id) == "completed" and len(webhooks.answers) == answers


def ledger_status(served: Served, request_id: str) -> str:
    with sqlite3.connect(served.folder / "home" / "jobs.sqlite3") as db:
        (status,) = db.execute("SELECT status FROM jobs WHERE request_id = ?", (request_id,)).fetchone()
    return str(status)


async def test_a_job_nobody_watches_costs_fal_one_request_and_ends_by_its_webhook(fake_fal: FakeFal, served: Served):
    job = await submit(served, wait_seconds=0)
    request_id = job["request_id"]
    wait_until(lambda: ended(served, request_id, fake_fal.webhooks), "the webhook to finish the job")
    assert fake_fal.webhooks.answers == [(request_id, 200)]
    assert fake_fal.count() == 1, fake_fal.requests  # the submit: no stream, no status, no result request
    finished = await job_of(served, request_id)
    assert finished["status"] == "completed" and finished["seed"] == 1094575694  # the fake's own, as its result says
    assert finished["video"]["url"].startswith(f"{served.public}/files/jobs/{request_id}/video.mp4?")  # its link
    assert finished["video"]["host_url"].startswith(fake_fal.cdn)
    assert fake_fal.count() == 1


async def test_a_watched_job_makes_at_most_three_requests(fake_fal: FakeFal, served: Served):
    job = await submit(served, wait_seconds=60)
    assert job["status"] == "completed", job
    wait_until(lambda: len(fake_fal.webhooks.answers) == 1, "the webhook to arrive")
    assert fake_fal.count() <= 3, fake_fal.requests
    assert fake_fal.webhooks.answers[0][1] == 200


async def test_a_job_is_followed_only_while_a_call_waits_on_it(fake_fal: FakeFal, served: Served):
    fake_fal.plan = [Phase("IN_PROGRESS", None, log="rendering")]  # it runs until the test says
    job = await submit(served, wait_seconds=1)
    assert job["status"] == "in_progress"  # the call ended with the job still running, and no longer follows it
    fake_fal.advance(job["request_id"])
    wait_until(lambda: ended(served, job["request_id"], fake_fal.webhooks), "the webhook to finish the job")
    assert fake_fal.webhooks.answers == [(job["request_id"], 200)]
    assert [kind for kind, _ in fake_fal.requests] == ["submit", "stream"], fake_fal.requests  # no result request


async def test_a_repeated_webhook_changes_nothing(fake_fal: FakeFal, served: Served):
    fake_fal.webhooks.inject("repeat")
    job = await submit(served, wait_seconds=0)
    wait_until(lambda: ended(served, job["request_id"], fake_fal.webhooks, 2), "both deliveries")
    assert [status for _, status in fake_fal.webhooks.answers] == [200, 200]
    log = served.log()
    outcomes = [line.rsplit(": ", 1)[1] for line in log.splitlines() if f"webhook for job {job['request_id']}:" in line]
    assert outcomes[0] == "applied" and outcomes[1] in ("repeat", "followed"), outcomes  # ended once, either way
    assert log.count(f"job {job['request_id']} completed") == 1
    assert fake_fal.count() == 1


async def test_unproven_deliveries_get_401_and_change_nothing(fake_fal: FakeFal, served: Served):
    fake_fal.plan = [Phase("IN_PROGRESS", None, log="rendering")]  # it runs until the test says
    fake_fal.webhooks.inject("hold")
    job = await submit(served, wait_seconds=0)
    request_id = job["request_id"]
    fake_fal.advance(request_id)
    wait_until(lambda: len(fake_fal.webhooks.held) == 1, "fal to have its delivery ready")
    good = fake_fal.webhooks.held[0]
    body = json.loads(good.body)
    stranger = FalSigner()

    def signed(
        content: bytes, by: FalSigner = fake_fal.signer, rid: str = request_id, at: float | None = None
    ) -> Delivery:
        return Delivery(
            good.url, content, {"content-type": "application/json", **by.headers(content, rid, at or time.time())}
        )

    other = dict(body, request_id="another-job")
    forged = [
        ("a key fal does not hold", signed(good.body, by=stranger)),
        ("a tampered body", Delivery(good.url, good.body.replace(b"1094575694", b"7"), good.headers)),
        ("a stale timestamp", signed(good.body, at=time.time() - 301)),
        ("another job's delivery", signed(json.dumps(other).encode(), rid="another-job")),
        ("no signature", Delivery(good.url, good.body, {"content-type": "application/json"})),
    ]
    for what, delivery in forged:
        assert fake_fal.webhooks.send(request_id, delivery) == 401, what
    unknown = Delivery(good.url.rsplit("/", 1)[0] + "/" + "x" * 43, good.body, good.headers)
    assert fake_fal.webhooks.send(request_id, unknown) == 404
    assert ledger_status(served, request_id) != "completed"
    log = served.log()
    assert log.count(f"webhook for job {request_id} refused") == len(forged)
    assert "its path names no job" in log
    fake_fal.webhooks.release()  # the real one, late: believed
    wait_until(lambda: ledger_status(served, request_id) == "completed", "the held webhook to finish the job")
    assert fake_fal.webhooks.send(request_id, good) == 200  # a replay, after: nothing to do
    assert "repeat" not in log and f"webhook for job {request_id}: repeat" in served.log()


@pytest.mark.fallback(0.5)
async def test_a_dropped_webhook_is_recovered_by_asking_fal(fake_fal: FakeFal, served: Served):
    fake_fal.webhooks.inject("drop")
    job = await submit(served, wait_seconds=0)
    request_id = job["request_id"]
    wait_until(lambda: ledger_status(served, request_id) == "completed", "the fallback to ask fal")
    assert fake_fal.webhooks.answers == []
    assert "no webhook by its time" in served.log()


async def test_a_runflow_job_ends_by_its_signed_callback_and_a_forged_one_changes_nothing(
    fake_fal: FakeFal, fake_runflow_server: FakeRunflow, tmp_path: Path
):
    runflow = fake_runflow_server
    runflow.reset()
    runflow.webhooks.inject("forge")  # one signed with another secret first, then Runflow's own
    env = {"RUNFLOW_API_KEY": runflow.key, "SEEDANCE_RUNFLOW_URL": runflow.url, "SEEDANCE_PROVIDER": "runflow"}
    with serving(fake_fal, tmp_path, SEEDANCE_RUNFLOW_WEBHOOK_SECRET=SECRET, **env) as served:
        request_id = (await submit(served, wait_seconds=0))["request_id"]
        wait_until(lambda: ended(served, request_id, runflow.webhooks, 2), "Runflow's own callback")
        assert runflow.webhooks.answers == [(request_id, 401), (request_id, 200)]  # the forged one first
        assert [kind for kind, _ in runflow.requests] == ["submit"]  # no status or result read
        assert (await job_of(served, request_id))["seed"] == 7  # the fake's own, as its output says
        assert "no Runflow webhook secret verifies the signature" in served.log()


async def test_a_modelark_callback_is_only_a_reason_to_ask_modelark_once(
    fake_fal: FakeFal, fake_ark_server: FakeArk, tmp_path: Path
):
    ark = fake_ark_server
    ark.reset()
    ark.plan = [Step("queued", 0.05), Step("running", None)]  # it runs until the test says
    env = {"ARK_API_KEY": ark.key, "SEEDANCE_ARK_URL": ark.base_url, "SEEDANCE_PROVIDER": "ark"}
    with serving(fake_fal, tmp_path, **env) as served:
        request_id = (await submit(served, wait_seconds=0))["request_id"]
        assert ark.webhooks.send(request_id, ark.lie(request_id)) == 200  # "succeeded", while it runs
        assert [kind for kind, _ in ark.requests] == ["submit", "status"]  # checked with ModelArk, once
        assert ledger_status(served, request_id) == "queued"  # as it was: nothing the callback said is taken
        ark.advance(request_id)
        wait_until(lambda: ended(served, request_id, ark.webhooks, 2), "ModelArk's own callback")
        assert ark.webhooks.answers[1] == (request_id, 200)
        assert [kind for kind, _ in ark.requests] == ["submit", "status", "status"]  # one fetch for each
        finished = await job_of(served, request_id)
        assert "elsewhere.example" not in json.dumps(finished)  # the video is the one ModelArk itself gave


async def test_a_failed_fal_job_is_explained_by_one_result_read_after_its_webhook(fake_fal: FakeFal, served: Served):
    fake_fal.outcome = "invalid"  # fal's ERROR webhook says only "Invalid status code: 422"
    request_id = (await submit(served, wait_seconds=0))["request_id"]
    wait_until(lambda: ledger_status(served, request_id) == "failed", "the webhook to end the job")
    assert fake_fal.webhooks.answers == [(request_id, 200)]
    assert [kind for kind, _ in fake_fal.requests] == ["submit", "result"]  # the result says why
    failed = await job_of(served, request_id)
    assert "Unsupported image format" in failed["error"], failed


async def test_a_failed_runflow_run_is_read_once_after_its_callback(
    fake_fal: FakeFal, fake_runflow_server: FakeRunflow, tmp_path: Path
):
    runflow = fake_runflow_server
    runflow.reset()
    runflow.final, runflow.error = "failed", ("content_policy", "the prompt was refused by the safety check")
    env = {"RUNFLOW_API_KEY": runflow.key, "SEEDANCE_RUNFLOW_URL": runflow.url, "SEEDANCE_PROVIDER": "runflow"}
    with serving(fake_fal, tmp_path, SEEDANCE_RUNFLOW_WEBHOOK_SECRET=SECRET, **env) as served:
        request_id = (await submit(served, wait_seconds=0))["request_id"]
        wait_until(lambda: ledger_status(served, request_id) == "failed", "Runflow's callback to end the run")
        assert runflow.webhooks.answers == [(request_id, 200)]
        assert [kind for kind, _ in runflow.requests] in (["submit", "status"], ["submit", "result"])  # one read
        assert "refused by the safety check" in (await job_of(served, request_id))["error"]


async def test_a_webhook_heard_by_another_replica_ends_the_job_through_the_shared_ledger(
    fake_fal: FakeFal, tmp_path: Path, postgres: PostgresServer
):
    """Behind a balancer, a host's callback may reach any replica: here every callback goes to `heard`, the
    replica the public URL names, while the jobs are submitted on `asked`. A job nobody watches is ended
    by the replica that heard it; one a caller waits on is followed live by `asked`, and ends once."""
    database = postgres.fresh_database()
    common = {"SEEDANCE_DATABASE_URL": database, "SEEDANCE_WEBHOOK_FALLBACK_SECONDS": "600"}
    fake_fal.plan = [Phase("IN_PROGRESS", None, log="rendering")]  # each runs until the test says
    with (
        serving(fake_fal, tmp_path / "heard", **common) as heard,
        serving(fake_fal, tmp_path / "asked", **common, SEEDANCE_PUBLIC_URL=heard.public) as asked,
    ):
        unwatched = (await submit(asked, wait_seconds=0))["request_id"]
        assert fake_fal.webhooks.url_of(unwatched).startswith(f"{heard.public}/hooks/")
        fake_fal.advance(unwatched)
        wait_until(lambda: column(database, unwatched, "status") == "completed", "the other replica to end it")
        assert f"webhook for job {unwatched}: applied" in heard.log()
        finished = await job_of(asked, unwatched)
        assert finished["status"] == "completed" and finished["seed"] == 1094575694
        assert requests_for(fake_fal, unwatched) == []  # after its submit, no stream, status or result request

        watched = (await submit(asked, wait_seconds=0, prompt="a second kite"))["request_id"]
        async with mcp_over_http(asked.url, timeout=60) as client, anyio.create_task_group() as tg:
            waited: dict[str, Any] = {}

            async def wait_on_asked() -> None:
                result = await client.call_tool("get_job", {"request_id": watched, "wait_seconds": 60})
                waited.update(result.structured_content or {})

            tg.start_soon(wait_on_asked)
            with anyio.fail_after(HANG_SECONDS):  # the waiting replica follows it live (the call runs meanwhile)
                while "stream" not in requests_for(fake_fal, watched):
                    await anyio.sleep(0.02)
            fake_fal.advance(watched)
        assert waited["status"] == "completed", waited
        wait_until(lambda: len(fake_fal.webhooks.answers) == 2, "the second webhook's answer")
        said = heard.log()  # followed live on `asked`, or already ended there
        assert f"webhook for job {watched}: followed" in said or f"webhook for job {watched}: repeat" in said
        assert fake_fal.count("submit") == 2
