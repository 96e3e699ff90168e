"""What the fault matrices of every host share: staging a fault, meeting it with a tool call, and the checks
every case makes (the server survives, the fault fired, a video is kept whole or not at all)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

import anyio
from mcp.types import CallToolResult

from server.ledger.sqlite import SqliteLedger
from server.settings import MAX_WAIT_SECONDS, Settings
from tests.conftest import connect

# Each call waits for its job's end, however long a busy machine makes the retries take; a bound this far off
# is reached only by a call that hangs.
TO_THE_END = {"wait_seconds": MAX_WAIT_SECONDS}
CALL_BOUND_SECONDS = 2 * MAX_WAIT_SECONDS


class Fake(Protocol):
    video: bytes

    def reopen(self) -> None: ...

    def pending_faults(self, op: str) -> list[str]: ...


class ReopenOnLog(logging.Handler):
    """Reopens the fake's doors the moment the client logs its first refused attempt, before it tries again.

    It runs inside the logging call, so the retry that follows always finds the door open, however busy
    the machine is: the test hinges on that event, not on how long anything takes."""

    def __init__(self, fake: Fake, words: str) -> None:
        super().__init__(logging.DEBUG)
        self._fake, self._words, self.fired = fake, words, False

    def emit(self, record: logging.LogRecord) -> None:
        if not self.fired and self._words in record.getMessage():
            self.fired = True
            self._fake.reopen()


async def events_of(settings: Settings, result: CallToolResult) -> list[str]:
    """What the ledger recorded about the job, event by event."""
    assert result.structured_content is not None
    ledger = SqliteLedger(settings.ledger_path)
    try:
        return [f"{e.event}: {e.detail}" for e in await ledger.events(result.structured_content["request_id"])]
    finally:
        await ledger.close()


async def submit_outcomes(settings: Settings) -> list[str]:
    ledger = SqliteLedger(settings.ledger_path)
    try:
        return [s.outcome for s in await ledger.submissions()]
    finally:
        await ledger.close()


async def meet(
    settings: Settings,
    fake: Fake,
    op: str,
    fault: str,
    refused_words: str,
    *,
    cancelled: Callable[[], str | None],
    before_cancel: Callable[[], None] = lambda: None,
) -> tuple[CallToolResult, CallToolResult]:
    """The call that meets the fault, and a call afterwards that shows the server still answers.

    For a cancel, the person presses stop once the job is reported queued: the call is cancelled, and the
    job is looked up with get_job once the fake says it was cancelled (`cancelled()` gives its id then)."""
    reopener = ReopenOnLog(fake, refused_words)
    if fault == "refused":
        logging.getLogger().addHandler(reopener)
    try:
        with anyio.fail_after(CALL_BOUND_SECONDS):  # no fault may leave a call hanging
            async with connect(settings) as client:
                arguments = {"prompt": f"{op} {fault}"}
                if op == "cancel":
                    queued = anyio.Event()

                    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
                        queued.set()

                    async with anyio.create_task_group() as calls:

                        async def call() -> None:
                            await client.call_tool("generate_text_video", arguments, progress_callback=on_progress)

                        calls.start_soon(call)
                        await queued.wait()
                        before_cancel()
                        calls.cancel_scope.cancel()
                    while (request_id := cancelled()) is None:
                        await anyio.sleep(0.05)
                    result = await client.call_tool("get_job", {"request_id": request_id, **TO_THE_END})
                else:
                    result = await client.call_tool("generate_text_video", {**arguments, **TO_THE_END})
                alive = await client.call_tool("estimate_cost", {"mode": "text-to-video"})
    finally:
        logging.getLogger().removeHandler(reopener)
    assert not alive.is_error, "the server must survive every fault"
    assert fake.pending_faults(op) == [], "every injected fault must have been met"
    assert reopener.fired == (fault == "refused")
    if op == "download":
        await check_kept_whole(settings, fake, result, whole=fault != "broken-for-good")
    return result, alive


async def check_kept_whole(settings: Settings, fake: Fake, result: CallToolResult, *, whole: bool) -> None:
    """A video is kept only whole: saved byte for byte, or not at all (no part left behind)."""
    assert settings.output_dir is not None
    folder = settings.output_dir
    saved = list(folder.iterdir()) if folder.exists() else []
    video = (result.structured_content or {}).get("video") or {}
    if whole:
        assert [p.read_bytes() for p in saved if p.suffix == ".mp4"] == [fake.video], saved
        assert video["saved_path"] and video["width"] and video["duration"]
    else:
        assert [p for p in saved if p.suffix in (".mp4", ".part")] == [] and video["saved_path"] is None
        assert "could not be downloaded whole" in str(await events_of(settings, result))
