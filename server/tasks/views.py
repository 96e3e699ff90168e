"""A task as each protocol era shows it, from its job in the ledger.

The eras differ in names (`ttlMs` or `ttl`), in where the result travels (inlined by `tasks/get` on
2026-07-28, fetched by `tasks/result` on 2025-11-25) and in what a failed job is: on 2026-07-28 a completed
task whose result is the tool's error, on 2025-11-25 a failed task.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from server.jobs.progress import describe
from server.jobs.views import job_result
from server.ledger import JobRecord
from server.tasks.store import POLL_MS, TTL_MS, created_at

RELATED_TASK = "io.modelcontextprotocol/related-task"


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _common(record: JobRecord, now: float | None) -> dict[str, Any]:
    assert record.task_id is not None
    created = created_at(record)
    view: dict[str, Any] = {
        "taskId": record.task_id,
        "status": "working",
        "createdAt": _iso(created),
        "lastUpdatedAt": _iso(max(record.updated_at, created)),
    }
    if not record.finished:
        view["statusMessage"] = describe(record, time.time() if now is None else now)
    elif record.status == "cancelled":
        view["status"] = "cancelled"
    return view


def result_of(record: JobRecord) -> dict[str, Any]:
    """What the plain call returns for this job, as it goes on the wire."""
    return job_result(record).model_dump(by_alias=True, mode="json", exclude_none=True)


def modern(record: JobRecord, now: float | None = None, *, with_result: bool = True) -> dict[str, Any]:
    """2026-07-28: working with the job's progress, or ended with the call's result inlined."""
    view = {**_common(record, now), "ttlMs": TTL_MS, "pollIntervalMs": POLL_MS}
    if record.finished and record.status != "cancelled":
        view["status"] = "completed"
        if with_result:
            view["result"] = result_of(record)
    return view


def legacy(record: JobRecord, now: float | None = None) -> dict[str, Any]:
    """2025-11-25: the flat task; its result comes from `tasks/result`."""
    view = {**_common(record, now), "ttl": TTL_MS, "pollInterval": POLL_MS}
    if record.finished and record.status != "cancelled":
        view["status"] = "failed" if record.status == "failed" else "completed"
    return view
