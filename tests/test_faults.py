"""The fault matrix: every fault on every queue operation ends in the right final state, and never hangs.

Faults come from the fake (HTTP answers) and its TCP front (refused, reset, hang). Reads are retried;
a submit is resent only after a refused connection, and an ambiguous submit is reported, never resent.
"""

from __future__ import annotations

import dataclasses

import anyio
import pytest

from server.ledger import Ledger
from server.settings import Settings
from tests.conftest import connect, text_of
from tests.fake_fal import FakeFal, Phase

pytestmark = pytest.mark.anyio

HTTP = ["429", "429-retry-after", "500", "502", "503", "504", "502-ingress", "503-ingress", "504-ingress"]
NETWORK = ["refused", "reset", "hang", "malformed"]
TRANSIENT = HTTP + NETWORK

# (operation, fault, final state)
MATRIX: list[tuple[str, str, str]] = [
    *[("submit", f, "refused") for f in ["429", "429-retry-after", "500", "502", "503", "504"]],
    *[("submit", f, "uncertain") for f in ["502-ingress", "503-ingress", "504-ingress", "reset", "hang", "malformed"]],
    ("submit", "refused", "completed"),  # nothing reached fal, so it is sent again once the door opens
    ("submit", "refused-for-good", "not submitted"),
    *[("status", f, "completed") for f in TRANSIENT],
    *[("stream", f, "completed") for f in [*TRANSIENT, "close-early"]],
    *[("result", f, "completed") for f in TRANSIENT],
    ("result", "gone", "failed"),
    *[("cancel", f, "cancelled") for f in TRANSIENT],
]
FAULTS_INJECTED = len(MATRIX)


@pytest.fixture
def fault_settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, fal_timeout=1)


def inject(fake: FakeFal, op: str, fault: str) -> None:
    if fault == "refused-for-good":
        fake.inject(op, "refused", seconds=30)
    elif fault == "refused":
        fake.inject(op, "refused", seconds=0.4)
    else:  # reads are retried, so they meet the fault twice; the rest are single shots
        retried = op in ("status", "result", "cancel") and fault not in ("hang", "gone")
        fake.inject(op, fault, times=2 if retried else 1)


@pytest.mark.parametrize(("op", "fault", "final"), MATRIX, ids=[f"{o}-{f}" for o, f, _ in MATRIX])
async def test_a_fault_ends_in_the_right_state(
    fault_settings: Settings, fake_fal: FakeFal, caplog: pytest.LogCaptureFixture, op: str, fault: str, final: str
):
    if op == "status":
        fake_fal.stream_mode = "fail"  # status is polled only once the stream is gone
    if op == "cancel":
        fake_fal.plan = [Phase("IN_QUEUE", None, queue_position=1)]
    inject(fake_fal, op, fault)
    with anyio.fail_after(30):  # no fault may leave a call hanging
        async with connect(fault_settings) as client:
            if op == "cancel":
                with anyio.move_on_after(0.3):
                    await client.call_tool("generate_text_video", {"prompt": f"{op} {fault}"})
                with anyio.fail_after(20):
                    while not fake_fal.jobs or not fake_fal.only_job().cancelled:
                        await anyio.sleep(0.05)
                request_id = fake_fal.only_job().request_id
                result = await client.call_tool("get_job", {"request_id": request_id, "wait_seconds": 5})
            else:
                result = await client.call_tool("generate_text_video", {"prompt": f"{op} {fault}"})
            alive = await client.call_tool("estimate_cost", {"mode": "text-to-video"})
    assert not alive.is_error, "the server must survive every fault"
    assert fake_fal.pending_faults(op) == [], "every injected fault must have been met"
    if fault.startswith("refused"):  # a refused connection leaves no trace at fal: the client's log shows it
        what = "status stream failed (ConnectError)" if op == "stream" else f"{op} failed attempt=1 error=ConnectError"
        assert what in caplog.text
    text = text_of(result)
    submits = fake_fal.count("submit")
    jobs = len(fake_fal.jobs)
    match final:
        case "completed" | "cancelled" | "failed":
            assert result.structured_content and result.structured_content["status"] == final, text
            assert jobs == 1
        case "refused":
            assert result.is_error and "Nothing was queued or charged" in text, text
            assert (submits, jobs) == (1, 0)
        case "not submitted":
            assert result.is_error and "Nothing was submitted" in text, text
            assert jobs == 0
        case "uncertain":
            assert result.is_error and "may exist" in text and "force_new=true" in text, text
            assert (submits, jobs) == (1, 1), "an ambiguous submit must not be sent again"
            ledger = Ledger(fault_settings.ledger_path)
            try:
                assert [s.outcome for s in ledger.submissions()] == ["uncertain"]
            finally:
                ledger.close()


async def test_a_rate_limited_submit_says_how_long_to_wait(fault_settings: Settings, fake_fal: FakeFal):
    fake_fal.inject("submit", "429-retry-after")
    async with connect(fault_settings) as client:
        result = await client.call_tool("generate_text_video", {"prompt": "busy"})
    assert "wait about 1 s" in text_of(result)
