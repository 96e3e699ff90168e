"""The HTTP door (server/operations/door.py): once a caller is over SEEDANCE_USER_CALLS_PER_MINUTE, the rest of
their minute is answered before sign-in and the MCP machinery, with the answer the server gives itself, on
both protocol eras; nobody else is affected, and a forged credential is not let off its 401.

Which answers came from the door: the ledger counts every call the server itself took, and none the door
took. A minute can turn during a test and start the count afresh: each test then goes round once more, from
calls until the server refuses one, to calls the door answers.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import httpx2
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import text_of
from tests.fake_fal import FakeFal
from tests.http_servers import LegacySession, mcp_over_http, start
from tests.signed_in import signed_in_server

pytestmark = [pytest.mark.anyio, pytest.mark.slow]  # servers in their own processes

CAP = 3
ESTIMATE = {"mode": "text-to-video", "duration": "5"}
TRIES = 3  # rounds: the first is enough unless a minute turns during it
AT_THE_DOOR = 5


def counted(folder: Path) -> int:
    """The calls the server itself counted, over every minute its ledger keeps."""
    with sqlite3.connect(folder / "home" / "jobs.sqlite3") as db:
        return int(db.execute("SELECT coalesce(sum(count), 0) FROM calls").fetchone()[0])


class Answers(httpx2.AsyncBaseTransport):
    """A client's transport that keeps the JSON-RPC answer to every tools/call, as the server wrote it."""

    def __init__(self) -> None:
        self._transport = httpx2.AsyncHTTPTransport()
        self.results: list[dict[str, Any]] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await self._transport.handle_async_request(request)
        if b'"tools/call"' not in request.content:
            return response
        body = await response.aread()
        text = body.decode()
        lines = [line[5:] for line in text.splitlines() if line.startswith("data:") and line[5:].strip()]
        self.results += [answer["result"] for answer in map(json.loads, lines or [text]) if "result" in answer]
        return httpx2.Response(response.status_code, headers=response.headers, content=body, request=request)

    async def aclose(self) -> None:
        await self._transport.aclose()


def without_text(result: dict[str, Any]) -> dict[str, Any]:
    """A refusal's answer but for its sentence, whose seconds to wait change."""
    return {**result, "content": [{**part, "text": "..."} for part in result["content"]]}


async def test_a_caller_over_the_minute_is_answered_at_the_door_and_nobody_else_is(fake_fal: FakeFal, tmp_path: Path):
    with signed_in_server(fake_fal, tmp_path, SEEDANCE_USER_CALLS_PER_MINUTE=str(CAP)) as served:
        alice, bob = served.idp.token("alice"), served.idp.token("bob")
        answers = Answers()
        async with mcp_over_http(served.url, token=alice, timeout=60, transport=answers) as client:
            for _ in range(TRIES):
                made = [await client.call_tool("estimate_cost", ESTIMATE)]
                while not made[-1].is_error:  # until the server refuses one
                    assert len(made) <= 2 * CAP, "the server never refused"
                    made.append(await client.call_tool("estimate_cost", ESTIMATE))
                before = counted(tmp_path)
                at_the_door = [await client.call_tool("estimate_cost", ESTIMATE) for _ in range(AT_THE_DOOR)]
                if counted(tmp_path) == before:
                    break
            else:
                pytest.fail(f"the door answered none of {TRIES} rounds")
        async with mcp_over_http(served.url, token=bob, timeout=60) as other:
            bobs = [await other.call_tool("estimate_cost", ESTIMATE) for _ in range(CAP)]
        forged = httpx2.post(
            served.url,
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "estimate_cost"}},
            headers={"Authorization": f"Bearer {alice[:-2]}xx", "Accept": "application/json, text/event-stream"},
            timeout=30,
        )
        scraped = httpx2.get(f"{served.url.removesuffix('/mcp')}/metrics", timeout=30).text

    assert not any(result.is_error for result in made[:-1]) and not any(result.is_error for result in bobs)
    for refused in (made[-1], *at_the_door):
        assert refused.is_error and f"at most {CAP} tool calls a minute" in text_of(refused), text_of(refused)
    server_said, door_said = answers.results[-1 - AT_THE_DOOR], answers.results[-1]
    assert without_text(door_said) == without_text(server_said)  # 2026-07-28: resultType, isError, content
    assert forged.status_code == 401
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(scraped)
        for sample in family.samples
    }
    assert samples[("seedance_refusals_total", (("reason", "rate"),))] >= 1 + AT_THE_DOOR
    refused_calls = samples[("seedance_tool_calls_total", (("outcome", "refused"), ("tool", "estimate_cost")))]
    assert refused_calls == samples[("seedance_refusals_total", (("reason", "rate"),))]


async def test_a_2025_11_25_session_over_the_minute_gets_the_same_answer_from_the_door(
    fake_fal: FakeFal, tmp_path: Path
):
    process, port = start(fake_fal, tmp_path, SEEDANCE_USER_CALLS_PER_MINUTE=str(CAP))
    try:
        assert process.poll() is None, (tmp_path / "stderr.log").read_text()
        async with httpx2.AsyncClient(timeout=60) as http:
            rpc = LegacySession(http, f"http://127.0.0.1:{port}/mcp")
            await rpc.start()
            call = {"name": "estimate_cost", "arguments": ESTIMATE}
            for _ in range(TRIES):
                made = [(await rpc("tools/call", call))["result"]]
                while not made[-1]["isError"]:
                    assert len(made) <= 2 * CAP, "the server never refused"
                    made.append((await rpc("tools/call", call))["result"])
                before = counted(tmp_path)
                door_said = (await rpc("tools/call", call))["result"]
                if counted(tmp_path) == before:
                    break
            else:
                pytest.fail(f"the door answered none of {TRIES} rounds")
            chunk = await rpc("tools/call", {"name": "video_chunk", "arguments": {"request_id": "nope"}})
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert "SEEDANCE_USER_CALLS_PER_MINUTE" in door_said["content"][0]["text"]
    assert without_text(door_said) == without_text(made[-1])
    assert "No job with request_id" in chunk["result"]["content"][0]["text"]  # uncounted: the server answers
