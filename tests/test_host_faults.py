"""The fault matrix on Runflow and ModelArk: every fault on every operation ends in the right state.

The same faults as fal's matrix (`test_faults.py`), on the operations a task API has: submit, status (a
poll), result (the read after the poll that saw the job finish), cancel, and the download of the video.
Both hosts serve every operation from one base URL, so a refused connection is staged by closing the
door just before the operation it is meant for, and reopened the moment the client logs it.
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
from tests.fake_hosts import FakeHost, Step
from tests.hosts import Host
from tests.test_faults import ReopenOnLog, events_of

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

HTTP = ["429", "429-retry-after", "500", "502", "503", "504"]
NETWORK = ["refused", "reset", "hang", "malformed"]
TRANSIENT = HTTP + NETWORK

# (operation, fault, final state)
MATRIX: list[tuple[str, str, str]] = [
    *[("submit", f, "refused") for f in HTTP],
    *[("submit", f, "uncertain") for f in ["502-gateway", "504-gateway", "reset", "hang", "malformed"]],
    ("submit", "refused", "completed"),  # nothing reached the host, so it is sent again once the door opens
    ("submit", "refused-for-good", "not submitted"),
    *[("status", f, "completed") for f in TRANSIENT],
    *[("result", f, "completed") for f in TRANSIENT],
    ("result", "gone", "failed"),
    *[("cancel", f, "cancelled") for f in TRANSIENT],
    *[("download", f, "completed") for f in ["500", "503", "429", "refused", "reset", "hang", "broken"]],
    ("download", "broken-for-good", "completed, not saved"),
]
HOSTS = ["runflow", "ark"]
FAULTS_INJECTED = len(MATRIX) * len(HOSTS)
CASES = [(host, *case) for host in HOSTS for case in MATRIX]


def refused_words(host: Host, op: str) -> str:
    label = {"runflow": "Runflow", "ark": "BytePlus ModelArk"}[host.name]
    return "download attempt 1 broke off" if op == "download" else f"{label} {op} failed attempt=1 error=ConnectError"


def inject(fake: FakeHost, op: str, fault: str) -> None:
    if fault.startswith("refused"):
        fake.inject(op, "refused")
    elif fault == "broken-for-good":
        fake.inject(op, "broken", times=DOWNLOAD_ATTEMPTS)
    else:  # reads are retried, so they meet the fault twice; the rest are single shots
        retried = op != "submit" and fault in TRANSIENT and fault != "hang"
        fake.inject(op, fault, times=2 if retried else 1)


@pytest.mark.parametrize(
    ("host", "op", "fault", "final"), CASES, ids=[f"{h}-{o}-{f}" for h, o, f, _ in CASES], indirect=["host"]
)
async def test_a_fault_ends_in_the_right_state(
    settings: Settings, host: Host, caplog: pytest.LogCaptureFixture, op: str, fault: str, final: str
):
    fake = host.fake
    assert isinstance(fake, FakeHost)
    server_settings = dataclasses.replace(host.settings(settings), fal_timeout=1)
    if op == "cancel":
        fake.plan = [Step("queued", None)]
    inject(fake, op, fault)
    reopener = ReopenOnLog(fake, refused_words(host, op))
    if fault == "refused":
        logging.getLogger().addHandler(reopener)
    try:
        result, alive = await _run(server_settings, fake, op, fault)
    finally:
        logging.getLogger().removeHandler(reopener)
    assert not alive.is_error, "the server must survive every fault"
    assert fake.pending_faults(op) == [], "every injected fault must have been met"
    if fault.startswith("refused"):
        assert refused_words(host, op) in caplog.text
    assert reopener.fired == (fault == "refused")
    text = text_of(result)
    view = result.structured_content or {}
    video = view.get("video") or {}
    if op == "download":  # a video is kept only whole: saved byte for byte, or not at all
        assert server_settings.output_dir is not None
        folder = server_settings.output_dir
        saved = list(folder.iterdir()) if folder.exists() else []
        if final == "completed":
            assert [p.read_bytes() for p in saved if p.suffix == ".mp4"] == [fake.video], saved
        else:
            assert [p for p in saved if p.suffix in (".mp4", ".part")] == [] and video["saved_path"] is None
            assert "could not be downloaded whole" in str(events_of(server_settings, result))
    jobs = len(fake.jobs)
    match final:
        case "completed" | "cancelled" | "failed" | "completed, not saved":
            assert view.get("status") == final.split(",")[0], text
            assert jobs == 1 and fake.count("submit") >= 1
        case "refused":
            assert result.is_error and "Nothing was queued or charged" in text, text
            assert jobs == 0
        case "not submitted":
            assert result.is_error and "Nothing was submitted" in text, text
            assert jobs == 0
        case "uncertain":
            assert result.is_error and "may exist" in text and "force_new=true" in text, text
            assert (fake.count("submit"), jobs) == (1, 1), "an ambiguous submit must not be sent again"
            ledger = Ledger(server_settings.ledger_path)
            try:
                assert [s.outcome for s in ledger.submissions()] == ["uncertain"]
            finally:
                ledger.close()


async def _run(settings: Settings, fake: FakeHost, op: str, fault: str) -> tuple[CallToolResult, CallToolResult]:
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
                    if fault == "refused":
                        fake.refuse_now()
                    calls.cancel_scope.cancel()
                with anyio.fail_after(20):
                    while not fake.only_job().cancelled:
                        await anyio.sleep(0.05)
                result = await client.call_tool("get_job", {"request_id": fake.only_job().id, "wait_seconds": 5})
            else:
                result = await client.call_tool("generate_text_video", {"prompt": f"{op} {fault}"})
            alive = await client.call_tool("estimate_cost", {"mode": "text-to-video"})
    return result, alive
