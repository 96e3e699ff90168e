"""Argument completion, as a client offers it while a person types: prompt arguments from their choices,
job and film ids from the caller's own, newest first, and nothing (never an error) for anything else."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from mcp.types import PromptReference, ResourceTemplateReference

from server.settings import Settings
from tests.conftest import connect, npm_ci
from tests.fake_fal import FakeFal
from tests.http_servers import start

pytestmark = pytest.mark.anyio

CONFORMANCE = Path(__file__).parent / "conformance"  # the suite's npm package, from its lock file
STORYBOARD = PromptReference(name="storyboard")
JOB = ResourceTemplateReference(uri="seedance://jobs/{request_id}")


async def test_a_storyboards_model_resolution_and_shape_complete_from_their_choices(settings: Settings):
    async with connect(settings) as client:
        assert client.server_capabilities is not None and client.server_capabilities.completions is not None

        async def offered(name: str, typed: str) -> list[str]:
            return (await client.complete(STORYBOARD, {"name": name, "value": typed})).completion.values

        assert await offered("model", "") == ["seedance-2.0", "seedance-2.0-fast", "seedance-2.0-mini", "seedance-2.5"]
        assert await offered("model", "seedance-2.0-") == ["seedance-2.0-fast", "seedance-2.0-mini"]
        assert await offered("resolution", "") == ["480p", "720p", "1080p", "4k"]
        assert await offered("aspect_ratio", "1") == ["16:9", "1:1"]
        assert await offered("shots", "1") == ["10", "11", "12"]
        assert await offered("idea", "a") == []  # free text: nothing to offer
        unknown = await client.complete(PromptReference(name="no_such_prompt"), {"name": "arg1", "value": "x"})
        assert unknown.completion.values == []


async def test_a_job_template_completes_the_callers_jobs_newest_first(settings: Settings, fake_fal: FakeFal):
    async with connect(settings) as client:
        made = []
        for prompt in ("one", "two", "three"):
            result = await client.call_tool("generate_text_video", {"prompt": prompt, "wait_seconds": 0})
            made.append((result.structured_content or {})["request_id"])
        every = await client.complete(JOB, {"name": "request_id", "value": ""})
        assert every.completion.values == made[::-1] and every.completion.total == 3
        first = await client.complete(JOB, {"name": "request_id", "value": made[0][:8]})
        assert first.completion.values == [made[0]]
        video = ResourceTemplateReference(uri="seedance://jobs/{request_id}/video")
        assert (await client.complete(video, {"name": "request_id", "value": ""})).completion.values == made[::-1]
        other = ResourceTemplateReference(uri="seedance://elsewhere/{request_id}")
        assert (await client.complete(other, {"name": "request_id", "value": ""})).completion.values == []


@pytest.mark.slow  # a server in its own process and the conformance suite in Node.js
def test_the_official_conformance_suite_passes_completion_complete(fake_fal: FakeFal, tmp_path: Path):
    suite = npm_ci(CONFORMANCE, ("@modelcontextprotocol/conformance",))
    process, port = start(fake_fal, tmp_path)
    try:
        assert process.poll() is None, (tmp_path / "stderr.log").read_text()
        run = subprocess.run(
            [str(shutil.which("node")), "node_modules/@modelcontextprotocol/conformance/dist/index.js", "server",
             "--url", f"http://127.0.0.1:{port}/mcp", "--scenario", "completion-complete"],
            cwd=suite, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert run.returncode == 0 and "Passed: 1/1, 0 failed" in run.stdout, run.stdout + run.stderr
