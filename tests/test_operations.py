"""What an operator runs a team server with, on real servers in their own processes: the probes (on SQLite,
and on PostgreSQL stopped and started again), draining on SIGTERM across replicas, /metrics parsed with
prometheus-client's own parser, JSON logs, and the cap on live sessions."""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from prometheus_client.parser import text_string_to_metric_families

from server.settings import HTTP_USER_MAX_JOBS_IN_FLIGHT
from tests.conftest import HANG_SECONDS, RecordingClient, subprocess_env, text_of
from tests.fake_fal import FakeFal, Phase
from tests.http_servers import INITIALIZE, Balancer, column, mcp_over_http, replicas, start, wait_until
from tests.otlp_receiver import otlp_receiver
from tests.postgres import PostgresServer
from tests.signed_in import HEADERS

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


def test_readiness_follows_the_database_and_liveness_does_not(served: Callable[..., int], tmp_path: Path):
    database = PostgresServer()
    database.start()
    try:
        port = served(SEEDANCE_DATABASE_URL=database.fresh_database())
        assert probe(port, "/readyz")[0] == 200
        database.halt()
        log = tmp_path / "server" / "stderr.log"
        # The replica's own work (here its sweep for jobs to take over) meets the outage and carries on.
        wait_until(lambda: "could not look for jobs to take over" in log.read_text(), "the sweep to meet the outage")
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
    ) as (stopping, other):
        handed: list[Any] = []
        # Through a balancer, as in a cluster: the client's first request goes to the other replica, its call
        # to the one that will stop, and its next (the tool list, read to check the result) to whichever is up.
        balancer = Balancer([other, stopping])
        async with (
            mcp_over_http(balancer.url, transport=balancer, timeout=HANG_SECONDS) as client,
            anyio.create_task_group() as tg,
        ):

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


METRICS_TOKEN = "0123456789abcdef0123456789abcdef-metrics"
PROMPT = "a lighthouse keeper's secret recipe"  # must not reach a metric or a log line


async def test_metrics_count_what_was_done_and_the_logs_are_json(
    served: Callable[..., int], fake_fal: FakeFal, tmp_path: Path
):
    port = served(SEEDANCE_LOG_FORMAT="json", SEEDANCE_MAX_USD_PER_JOB="3", SEEDANCE_METRICS_TOKEN=METRICS_TOKEN)
    fake_fal.inject("result", "503")  # the first result fetch is answered 503, and retried
    async with RecordingClient(f"http://127.0.0.1:{port}/mcp") as client:
        for _ in range(2):
            assert not (await client.call_tool("estimate_cost", {"mode": "text-to-video"})).is_error
        for prompt in (PROMPT, "a second take"):
            made = await client.call_tool("generate_text_video", {"prompt": prompt, **FOUR_SECONDS})
            assert made.structured_content and made.structured_content["status"] == "completed", text_of(made)
        invalid = await client.call_tool("generate_text_video", {"prompt": PROMPT, "duration": "99"})
        over_cap = await client.call_tool("generate_text_video", {"prompt": PROMPT, "duration": "15"})
        fake_fal.inject("submit", "429")
        failed = await client.call_tool("generate_text_video", {"prompt": PROMPT, "duration": "5"})
    assert invalid.is_error and over_cap.is_error and failed.is_error

    scraped = httpx2.get(f"http://127.0.0.1:{port}/metrics", timeout=30)
    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(scraped.text)
        for sample in family.samples
    }

    def value(name: str, **labels: str) -> float:
        return samples.get((name, tuple(sorted(labels.items()))), 0.0)

    assert value("seedance_tool_calls_total", tool="estimate_cost", outcome="ok") == 2
    assert value("seedance_tool_calls_total", tool="generate_text_video", outcome="ok") == 2
    assert value("seedance_tool_calls_total", tool="generate_text_video", outcome="refused") == 2
    assert value("seedance_tool_calls_total", tool="generate_text_video", outcome="error") == 1
    assert value("seedance_tool_call_duration_seconds_count", tool="generate_text_video") == 5
    assert value("seedance_refusals_total", reason="invalid") == 1
    assert value("seedance_refusals_total", reason="cap") == 1
    assert value("seedance_refusals_total", reason="budget") == 0
    assert value("seedance_host_requests_total", host="fal", operation="submit", status="200") == 2
    assert value("seedance_host_requests_total", host="fal", operation="submit", status="429") == 1
    assert value("seedance_host_requests_total", host="fal", operation="result", status="503") == 1
    assert value("seedance_host_requests_total", host="fal", operation="result", status="200") == 2
    assert value("seedance_host_retries_total", host="fal", operation="result") == 1
    assert value("seedance_jobs_in_flight") == 0

    with sqlite3.connect(tmp_path / "server" / "home" / "jobs.sqlite3") as db:
        jobs, spent = db.execute("SELECT count(*), sum(estimate_max_usd) FROM jobs WHERE preview = 0").fetchone()
        request_ids = {row[0] for row in db.execute("SELECT request_id FROM jobs")}
    assert value("seedance_jobs_submitted_total", host="fal", model="seedance-2.0") == jobs == 2
    assert value("seedance_spend_list_price_usd_total", host="fal", model="seedance-2.0") == pytest.approx(spent)

    labels = {v for (_, pairs) in samples for (_, v) in pairs}
    assert not [v for v in labels if "/" in v or "127.0.0.1" in v or "lighthouse" in v or len(v) > 40], labels
    assert request_ids and not request_ids & labels

    lines = [line for line in (tmp_path / "server" / "stderr.log").read_text().splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= entry.keys() for entry in entries)
    assert any(entry.get("tool") == "generate_text_video" and "request" in entry for entry in entries)
    assert any("job" in entry for entry in entries)
    assert "lighthouse" not in "\n".join(lines) and fake_fal.key not in "\n".join(lines)


def test_a_replica_refuses_sessions_over_its_cap(served: Callable[..., int]):
    port = served(SEEDANCE_HTTP_MAX_SESSIONS="2")
    opened = [
        httpx2.post(f"http://127.0.0.1:{port}/mcp", json=INITIALIZE, headers=HEADERS, timeout=30).status_code
        for _ in range(3)
    ]
    assert opened == [200, 200, 503]
    assert probe(port, "/healthz")[0] == 200  # the probes are not sessions


TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"


async def test_traces_continue_the_callers_trace_and_hold_no_key_or_prompt(
    served: Callable[..., int], fake_fal: FakeFal
):
    with otlp_receiver() as receiver:
        port = served(OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url, OTEL_BSP_SCHEDULE_DELAY="50")
        async with RecordingClient(f"http://127.0.0.1:{port}/mcp") as client:
            made = await client.call_tool(
                "generate_text_video",
                {"prompt": PROMPT, **FOUR_SECONDS},
                meta={"traceparent": f"00-{TRACE_ID}-{CALLER_SPAN}-01"},  # type: ignore[arg-type]
            )
        assert made.structured_content and made.structured_content["status"] == "completed", text_of(made)
        name = "tools/call generate_text_video"
        wait_until(lambda: bool(receiver.named(name) and receiver.named("fal submit")), "the spans to arrive")
        wait_until(lambda: bool(receiver.named("seedance.job.wait")), "the wait's span")

        (call,) = receiver.named(name)
        attributes = {a.key: a.value for a in call.attributes}
        assert call.trace_id.hex() == TRACE_ID and call.parent_span_id.hex() == CALLER_SPAN
        assert call.kind == call.SPAN_KIND_SERVER
        assert attributes["mcp.method.name"].string_value == "tools/call"
        assert attributes["gen_ai.tool.name"].string_value == "generate_text_video"
        assert "jsonrpc.request.id" in attributes
        children = receiver.named("fal submit") + receiver.named("seedance.job.wait")
        assert all(span.trace_id.hex() == TRACE_ID for span in children)
        (submit,) = receiver.named("fal submit")
        http = {a.key: a.value for a in submit.attributes}
        assert submit.kind == submit.SPAN_KIND_CLIENT and http["http.response.status_code"].int_value == 200
        assert http["http.request.method"].string_value == "POST" and "?" not in http["url.full"].string_value
        everything = str(receiver.spans)
        assert fake_fal.key not in everything and "lighthouse" not in everything


def test_without_the_variables_no_tracing_or_metrics_library_is_loaded(tmp_path: Path):
    """Over stdio neither OpenTelemetry's SDK and exporter nor prometheus-client is imported: the cold start
    does not pay. (OpenTelemetry's API is the MCP SDK's own, and records nothing.)"""
    code = (
        "import sys\n"
        "from server.cli import _settings\n"
        "from server.app import build_server\n"
        "build_server(_settings())\n"
        "heavy = ('opentelemetry.sdk', 'opentelemetry.exporter', 'opentelemetry.proto', 'prometheus_client')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    env = {k: v for k, v in subprocess_env(tmp_path).items() if not k.startswith("OTEL_")}
    loaded = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "[]"


async def test_over_http_the_limits_per_person_are_on_by_default(served: Callable[..., int], fake_fal: FakeFal):
    fake_fal.plan = list(HELD)
    port = served(SEEDANCE_USER_MAX_JOBS_IN_FLIGHT="", SEEDANCE_USER_CALLS_PER_MINUTE="")  # as an operator has it
    async with RecordingClient(f"http://127.0.0.1:{port}/mcp") as client:
        results = [
            await client.call_tool("generate_text_video", {"prompt": f"take {n}", "wait_seconds": 0, **FOUR_SECONDS})
            for n in range(HTTP_USER_MAX_JOBS_IN_FLIGHT + 1)
        ]
    *accepted, refused = results
    assert not any(result.is_error for result in accepted), [text_of(r) for r in accepted]
    assert refused.is_error and f"at most {HTTP_USER_MAX_JOBS_IN_FLIGHT} at once" in text_of(refused)
    assert fake_fal.count("submit") == HTTP_USER_MAX_JOBS_IN_FLIGHT
