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
from server.saving import DOWNLOAD_ATTEMPTS
from server.settings import Settings
from tests.conftest import connect, text_of
from tests.fake_fal import FakeFal, Phase
from tests.fake_hosts import FakeHost

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
    ("result", "504-user-timeout", "failed"),  # the job's own start timeout at fal: final, never retried
    ("stream", "unknown-status", "completed"),
    ("stream", "split-event", "completed"),
    ("stream", "bare-logs", "completed"),
    ("status", "bare-logs", "completed"),
    ("result", "bare-video", "completed"),
    *[("download", f, "completed") for f in ["500", "503", "429", "refused", "reset", "hang", "broken"]],
    ("download", "broken-for-good", "completed, not saved"),
]
FAULTS_INJECTED = len(MATRIX)


@pytest.fixture
def fault_settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, fal_timeout=1)


class ReopenOnLog(logging.Handler):
    """Reopens the fake's doors the moment the client logs its first refused attempt, before it tries again.

    It runs inside the logging call, so the retry that follows always finds the door open, however busy
    the machine is: the test hinges on that event, not on how long anything takes."""

    def __init__(self, fake: FakeFal | FakeHost, words: str) -> None:
        super().__init__(logging.DEBUG)
        self._fake, self._words, self.fired = fake, words, False

    def emit(self, record: logging.LogRecord) -> None:
        if not self.fired and self._words in record.getMessage():
            self.fired = True
            self._fake.reopen()


def refused_words(op: str) -> str:
    """What the client logs when `op` meets a closed door."""
    if op == "stream":
        return "status stream failed (ConnectError)"
    if op == "download":
        return "download attempt 1 broke off"
    return f"{op} failed attempt=1 error=ConnectError"


def inject(fake: FakeFal, op: str, fault: str) -> None:
    if fault.startswith("refused"):
        fake.inject(op, "refused")  # "refused" is reopened by ReopenOnLog; "refused-for-good" stays closed
    elif fault == "broken-for-good":
        fake.inject(op, "broken", times=DOWNLOAD_ATTEMPTS)
    else:  # reads are retried, so they meet the fault twice; the rest are single shots
        retried = op in ("status", "result", "cancel", "download") and fault in TRANSIENT and fault != "hang"
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
    video = (result.structured_content or {}).get("video") or {}
    if op == "result" and fault == "504-user-timeout":
        assert fake_fal.count("result") == 1 and "start timeout" in text, text
    if op == "download":  # a video is kept only whole: saved byte for byte, or not at all
        assert fault_settings.output_dir is not None
        folder = fault_settings.output_dir
        saved = list(folder.iterdir()) if folder.exists() else []
        if final == "completed":
            assert [p.read_bytes() for p in saved if p.suffix == ".mp4"] == [fake_fal.video], saved
            assert video["saved_path"] and video["width"] and video["duration"]
        else:
            assert [p for p in saved if p.suffix in (".mp4", ".part")] == [] and video["saved_path"] is None
            assert video["url"].startswith(fake_fal.doors["cdn"]) and "could not be downloaded whole" in str(
                events_of(fault_settings, result)
            )
    if fault == "bare-video":
        assert video["content_type"] is None and video["file_size"] is None and video["saved_path"]
    match final:
        case "completed" | "cancelled" | "failed" | "completed, not saved":
            assert result.structured_content, text
            assert result.structured_content["status"] == final.split(",")[0], text
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


def events_of(settings: Settings, result: CallToolResult) -> list[str]:
    """What the ledger recorded about the job, event by event."""
    assert result.structured_content is not None
    ledger = Ledger(settings.ledger_path)
    try:
        return [f"{e.event}: {e.detail}" for e in ledger.events(result.structured_content["request_id"])]
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
