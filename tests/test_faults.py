"""The fault matrix: every fault on every queue operation ends in the right final state, and never hangs.

Faults come from the fake (HTTP answers) and its TCP front (refused, reset, hang). Reads are retried;
a submit is resent only after a refused connection, and an ambiguous submit is reported, never resent.
"""

from __future__ import annotations

import dataclasses

import pytest

from server.media.saving import DOWNLOAD_ATTEMPTS
from server.settings import Settings
from tests.conftest import connect, text_of
from tests.fake_fal import FakeFal, Phase
from tests.fault_matrix import meet, submit_outcomes

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

    def cancelled() -> str | None:
        return fake_fal.only_job().request_id if fake_fal.jobs and fake_fal.only_job().cancelled else None

    result, _ = await meet(fault_settings, fake_fal, op, fault, refused_words(op), cancelled=cancelled)
    if fault.startswith("refused"):  # a refused connection leaves no trace at fal: the client's log shows it
        assert refused_words(op) in caplog.text
    text = text_of(result)
    submits = fake_fal.count("submit")
    jobs = len(fake_fal.jobs)
    video = (result.structured_content or {}).get("video") or {}
    if op == "result" and fault == "504-user-timeout":
        assert fake_fal.count("result") == 1 and "start timeout" in text, text
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
            assert await submit_outcomes(fault_settings) == ["uncertain"]


async def test_a_rate_limited_submit_says_how_long_to_wait(fault_settings: Settings, fake_fal: FakeFal):
    fake_fal.inject("submit", "429-retry-after")
    async with connect(fault_settings) as client:
        result = await client.call_tool("generate_text_video", {"prompt": "busy"})
    assert "wait about 1 s" in text_of(result)
