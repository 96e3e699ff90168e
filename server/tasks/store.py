"""The task store is the ledger: a task is a job with an unguessable `task_id`, owned like the job."""

from __future__ import annotations

import secrets
import time
from contextvars import ContextVar

from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS

from server.ledger import JobRecord, Ledger
from server.trust.owners import current_person

TTL_MS = 24 * 3600 * 1000  # a day to come back for the video; the job itself stays in the ledger after
POLL_MS = 2000
NOT_FOUND = "Failed to retrieve task: Task not found"

# Set while a generation call runs as a task: it returns as soon as its job is recorded, without waiting.
as_task: ContextVar[bool] = ContextVar("seedance_as_task", default=False)


def created_at(record: JobRecord) -> float:
    assert record.task_expires_at is not None
    return record.task_expires_at - TTL_MS / 1000


async def open_task(ledger: Ledger, request_id: str) -> JobRecord:
    """The job as a task, committed before anyone is told its id (an identical call's job keeps its task)."""
    return await ledger.open_task(request_id, secrets.token_urlsafe(24), time.time() + TTL_MS / 1000)


async def find_task(ledger: Ledger, task_id: str) -> JobRecord:
    """The caller's live task, or the protocol's not-found error: someone else's task is no task, and one
    past its time to live is removed."""
    record = await ledger.task(task_id)
    now = time.time()
    if record is not None and record.task_expires_at is not None and record.task_expires_at <= now:
        await ledger.forget_tasks(now)
        record = None
    if record is None or not current_person().may_see(record):
        raise MCPError(code=INVALID_PARAMS, message=NOT_FOUND)
    return record
