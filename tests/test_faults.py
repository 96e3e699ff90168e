"""The fault matrix: every fault on every queue operation ends in the right final state, and never hangs.

Faults come from the fake (HTTP answers) and its TCP front (refused, reset, hang). Reads are retried;
a submit is resent only after a refused connection, and an ambiguous submit is reported, never resent.
"""

from __future__ import annotations

import dataclasses
import logging

import anyio
import pytest
from mcp.types import CallToolResult

from server.ledger import Ledger
from server.settings import Settings
from tests.conftest import connect, text_of
from tests.fake_fal import FakeFal, Phase

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

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


class ReopenOnLog(logging.Handler):
    """Reopens the fake's doors the moment the client logs its first refused attempt, before it tries again.

    It runs inside the logging call, so the retry that follows always finds the door open, however busy
    the machine is: the test hinges on that event, not on how long anything takes."""

    def __init__(self, fake: FakeFal, words: str) -> None:
        super().__init__(logging.DEBUG)
        self._fake, self._words, self.fired = fake, words, False

    def emit(self, record: logging.LogRecord) -> None:
        if not self.fired and self._words in record.getMessage():
            self.fired = True
            self._fake.reopen()


def refused_words(op: str) -> str:
    """What the client logs when `op` meets a closed door."""
    return "status stream failed (ConnectError)" if op == "stream" else f"{op} failed attempt=1 error=ConnectError"


def inject(fake: FakeFal, op: str, fault: str) -> None:
    if fault.startswith("refused"):
        fake.inject(op, "refused")  # "refused" is reopened by ReopenOnLog; "refused-for-good" stays closed
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
    reopener = ReopenOnLog(fake_fal, refused_words(op))
    if fault == "refused":
        logging.getLogger().addHandler(reopener)
    try:
        result, alive = await _run(fault_settings, fake_fal, op, fault)
    finally:
        logging.getLogger().removeHandler(reopener)
    assert not alive.is_error, "the server must survive every fault"
    assert fake_fal.pending_faults(op) == [], "every injected fault must have been met"
    if fault.startswith("refused"):  # a refused connection leaves no trace at fal: the client's log shows it
        assert refused_words(op) in caplog.text
    assert reopener.fired == (fault == "refused")
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


async def _run(settings: Settings, fake_fal: FakeFal, op: str, fault: str) -> tuple[CallToolResult, CallToolResult]:
    """The call that meets the fault, and a call afterwards that shows the server still answers."""
    with anyio.fail_after(30):  # no fault may leave a call hanging
        async with connect(settings) as client:
            if op == "cancel":  # the person presses stop once the job is queued: the call is cancelled
                queued = anyio.Event()

                async def on_progress(progress: float, total: float | None, message: str | None) -> None:
                    queued.set()

                async with anyio.create_task_group() as calls:

                    async def call() -> None:
                        await client.call_tool(
                            "generate_text_video", {"prompt": f"{op} {fault}"}, progress_callback=on_progress
                        )

                    calls.start_soon(call)
                    await queued.wait()
                    calls.cancel_scope.cancel()
                with anyio.fail_after(20):
                    while not fake_fal.only_job().cancelled:
                        await anyio.sleep(0.05)
                request_id = fake_fal.only_job().request_id
                result = await client.call_tool("get_job", {"request_id": request_id, "wait_seconds": 5})
            else:
                result = await client.call_tool("generate_text_video", {"prompt": f"{op} {fault}"})
            alive = await client.call_tool("estimate_cost", {"mode": "text-to-video"})
    return result, alive


async def test_a_rate_limited_submit_says_how_long_to_wait(fault_settings: Settings, fake_fal: FakeFal):
    fake_fal.inject("submit", "429-retry-after")
    async with connect(fault_settings) as client:
        result = await client.call_tool("generate_text_video", {"prompt": "busy"})
    assert "wait about 1 s" in text_of(result)
