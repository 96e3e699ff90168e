"""Progress notifications: a rising number and a sentence a person can read in the chat.

fal says how far along a job is only through its state, queue position and logs, so progress is a
curve over time within each state (queued 1-10, generating 10-95) that only ever rises, and 100 at
the end. A host that knows how much is done (the preview renderer counts its frames) says so, and then
generating runs 10-99 in step with it. Called again with an unchanged job it still rises a little:
that is the heartbeat, which keeps a client's timeout from firing.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable

from server.ledger import JobRecord

TOTAL = 100.0
TYPICAL_GENERATION_SECONDS = 90.0
HEARTBEAT_SHARE = 0.01  # an unchanged job still closes 1% of the remaining gap, so progress never stalls
EXACT_HEARTBEAT = 0.01  # where the host says how far it is, a heartbeat moves by a hundredth of a percent only

Report = Callable[[float, float | None, str | None], Awaitable[None]]


def describe(record: JobRecord, now: float | None = None) -> str:
    """The human half of a progress notification."""
    now = time.time() if now is None else now
    match record.status:
        case "queued":
            if record.queue_position is None:
                return "queued"
            return "queued, next in line" if record.queue_position == 0 else f"queued, position {record.queue_position}"
        case "in_progress":
            text = f"generating, {now - (record.started_at or now):.0f} s"
            return f"{text}: {record.last_log}" if record.last_log else text
        case "completed":
            return "done"
        case "failed":
            return f"failed: {record.error}"
        case _:
            return "cancelled"


def _curve(seconds: float, scale: float) -> float:
    return 1 - math.exp(-max(seconds, 0.0) / scale)


def estimate_progress(record: JobRecord, now: float) -> float:
    if record.finished:
        return TOTAL
    if record.status == "queued":
        return 1 + 9 * _curve(now - record.created_at, 60)
    if record.progress is not None:
        return 10 + 89 * min(max(record.progress, 0.0), 1.0)
    return 10 + 85 * _curve(now - (record.started_at or now), TYPICAL_GENERATION_SECONDS)


class ProgressReporter:
    """Sends one notification per call, each with a higher `progress` than the one before."""

    def __init__(self, report: Report) -> None:
        self._report = report
        self._last = 0.0

    async def __call__(self, record: JobRecord) -> None:
        now = time.time()
        if record.finished:
            value = TOTAL
        else:
            step = EXACT_HEARTBEAT if record.progress is not None else (TOTAL - self._last) * HEARTBEAT_SHARE
            value = max(estimate_progress(record, now), self._last + step)
        if value <= self._last:
            return
        self._last = value
        await self._report(value, TOTAL, describe(record, now))
