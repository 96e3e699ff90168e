"""What the ledger holds, as the rest of the server reads it: rows with their JSON columns decoded."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from server.catalog import TERMINAL_STATUSES, JobStatus, Mode, Model

Row = Mapping[str, Any]


@dataclass(frozen=True)
class FilmRecord:
    """One film: the shots it joins, in order, where its MP4 is, and what make_film found when it joined them."""

    film_id: str
    title: str | None
    request_ids: list[str]
    transition: str
    path: str
    facts: dict[str, Any]  # method, sound, duration, size, poster, cost: see server/media/films.py
    created_at: float

    @classmethod
    def from_row(cls, row: Row) -> FilmRecord:
        values = dict(row)
        values["request_ids"] = json.loads(values["request_ids"])
        values["facts"] = json.loads(values["facts"])
        return cls(**values)


@dataclass(frozen=True)
class Submission:
    """One submit attempt: `sending` until the provider answers, then accepted, refused or uncertain."""

    id: int
    fingerprint: str
    provider: str
    endpoint: str
    started_at: float
    outcome: str
    request_id: str | None
    detail: str | None


@dataclass(frozen=True)
class JobRecord:
    """One row of `jobs`, with JSON columns decoded."""

    request_id: str
    provider: str
    endpoint: str
    mode: Mode
    model: Model
    arguments: dict[str, Any]
    handle: dict[str, str]
    estimate_min_usd: float
    estimate_max_usd: float
    status: JobStatus
    queue_position: int | None
    last_log: str | None
    result: dict[str, Any] | None
    error: str | None
    created_at: float
    started_at: float | None
    updated_at: float
    finished_at: float | None
    preview: bool
    fingerprint: str | None
    progress: float | None  # the share done as the host reports it; None when it does not say
    follower: str | None = None  # the replica following the job while its lease lasts
    lease_until: float | None = None
    owner: str | None = None  # who started it: a token's subject, "token" for the shared token, None unsigned
    draft_of: str | None = None  # for a draft's completion: the draft job's request_id
    cost_usd: float | None = None  # a finished job's cost by the video it made; None: only the estimate is known
    task_id: str | None = None  # the MCP task a client follows this job by, while it lasts
    task_expires_at: float | None = None
    hook: str | None = None  # the sha256 of its webhook path's token, for a job whose host calls back
    hook_due: float | None = None  # when the host is asked itself, should no webhook have come

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @classmethod
    def from_row(cls, row: Row) -> JobRecord:
        values = dict(row)
        for column in ("arguments", "handle", "result"):
            if values[column] is not None:
                values[column] = json.loads(values[column])
        values["preview"] = bool(values["preview"])
        return cls(**values)


@dataclass(frozen=True)
class JobEvent:
    at: float
    event: str
    detail: str | None
