"""The job ledger: one SQLite file that is the source of truth for every job this server submitted.

A row is written the moment the provider returns a request id, before any waiting, so a paid job
survives a crash, a client timeout or a restart. WAL mode lets a reader (another server process, a
person with `sqlite3`) look while jobs run. Schema changes are appended to `MIGRATIONS`, never edited.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from server.inputs.catalog import TERMINAL_STATUSES, JobStatus, Mode, Tier

MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = []
migration = MIGRATIONS.append


@migration
def m001_jobs(db: sqlite3.Connection) -> None:
    db.execute(
        """
        CREATE TABLE jobs (
            request_id TEXT PRIMARY KEY,
            provider TEXT NOT NULL,
            endpoint TEXT NOT NULL,
            mode TEXT NOT NULL,
            tier TEXT NOT NULL,
            arguments TEXT NOT NULL,
            handle TEXT NOT NULL,
            estimate_min_usd REAL NOT NULL,
            estimate_max_usd REAL NOT NULL,
            status TEXT NOT NULL,
            queue_position INTEGER,
            last_log TEXT,
            result TEXT,
            error TEXT,
            created_at REAL NOT NULL,
            started_at REAL,
            updated_at REAL NOT NULL,
            finished_at REAL
        )
        """
    )
    db.execute("CREATE INDEX jobs_created ON jobs (created_at)")
    db.execute(
        """
        CREATE TABLE job_events (
            id INTEGER PRIMARY KEY,
            request_id TEXT NOT NULL REFERENCES jobs (request_id),
            at REAL NOT NULL,
            event TEXT NOT NULL,
            detail TEXT
        )
        """
    )
    db.execute("CREATE INDEX job_events_request ON job_events (request_id, id)")


@migration
def m002_preview(db: sqlite3.Connection) -> None:
    """Offline previews are free stand-ins: kept apart from paid jobs in every sum of spending."""
    db.execute("ALTER TABLE jobs ADD COLUMN preview INTEGER NOT NULL DEFAULT 0")


@migration
def m003_submissions(db: sqlite3.Connection) -> None:
    """Every submit attempt, written before the request leaves: a crash or a lost answer leaves a trace."""
    db.execute(
        """
        CREATE TABLE submissions (
            id INTEGER PRIMARY KEY,
            fingerprint TEXT NOT NULL,
            provider TEXT NOT NULL,
            endpoint TEXT NOT NULL,
            arguments TEXT NOT NULL,
            started_at REAL NOT NULL,
            outcome TEXT NOT NULL DEFAULT 'sending',
            request_id TEXT,
            detail TEXT
        )
        """
    )
    db.execute("CREATE INDEX submissions_fingerprint ON submissions (fingerprint, started_at)")
    db.execute("ALTER TABLE jobs ADD COLUMN fingerprint TEXT")
    db.execute("CREATE INDEX jobs_fingerprint ON jobs (fingerprint, created_at)")


@migration
def m004_uploads(db: sqlite3.Connection) -> None:
    """Local files already uploaded, by content: the same file is not uploaded twice."""
    db.execute(
        """
        CREATE TABLE uploads (
            sha256 TEXT NOT NULL,
            provider TEXT NOT NULL,
            url TEXT NOT NULL,
            uploaded_at REAL NOT NULL,
            PRIMARY KEY (sha256, provider)
        )
        """
    )


@migration
def m005_progress(db: sqlite3.Connection) -> None:
    """How much of the generation is done (0-1), for hosts that know it rather than leaving it to a curve."""
    db.execute("ALTER TABLE jobs ADD COLUMN progress REAL")


@migration
def m006_films(db: sqlite3.Connection) -> None:
    """Films joined from finished jobs by make_film: local work, free, but known after a restart."""
    db.execute(
        """
        CREATE TABLE films (
            film_id TEXT PRIMARY KEY,
            title TEXT,
            request_ids TEXT NOT NULL,
            transition TEXT NOT NULL,
            path TEXT NOT NULL,
            facts TEXT NOT NULL,
            created_at REAL NOT NULL
        )
        """
    )


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
    def from_row(cls, row: sqlite3.Row) -> FilmRecord:
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
    tier: Tier
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

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> JobRecord:
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


class Ledger:
    """Synchronous and quick (a few ms a call), so it is used straight from the event loop."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._migrate()

    def _migrate(self) -> None:
        with self._transaction() as db:
            db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)")
            applied = {row[0] for row in db.execute("SELECT name FROM _migrations")}
            for step in MIGRATIONS:
                if step.__name__ not in applied:
                    step(db)
                    db.execute("INSERT INTO _migrations VALUES (?, ?)", (step.__name__, time.time()))

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def close(self) -> None:
        self._db.close()

    def add(
        self,
        *,
        request_id: str,
        provider: str,
        endpoint: str,
        mode: Mode,
        tier: Tier,
        arguments: Mapping[str, Any],
        handle: Mapping[str, str],
        estimate: tuple[float, float],
        queue_position: int | None,
        preview: bool = False,
        submission: int | None = None,
        fingerprint: str | None = None,
    ) -> JobRecord:
        """Record an accepted job, and mark the submit attempt that started it, in one transaction."""
        now = time.time()
        with self._transaction() as db:
            db.execute(
                """INSERT INTO jobs (request_id, provider, endpoint, mode, tier, arguments, handle,
                   estimate_min_usd, estimate_max_usd, status, queue_position, created_at, updated_at, preview,
                   fingerprint)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?)""",
                (
                    request_id,
                    provider,
                    endpoint,
                    mode,
                    tier,
                    json.dumps(dict(arguments)),
                    json.dumps(dict(handle)),
                    estimate[0],
                    estimate[1],
                    queue_position,
                    now,
                    now,
                    int(preview),
                    fingerprint,
                ),
            )
            if submission is not None:
                db.execute(
                    "UPDATE submissions SET outcome = 'accepted', request_id = ? WHERE id = ?", (request_id, submission)
                )
            self._event(db, request_id, "submitted", f"{provider} {endpoint}")
        return self.require(request_id)

    def begin_submission(self, *, fingerprint: str, provider: str, endpoint: str, arguments: Mapping[str, Any]) -> int:
        with self._transaction() as db:
            cursor = db.execute(
                """INSERT INTO submissions (fingerprint, provider, endpoint, arguments, started_at)
                   VALUES (?, ?, ?, ?, ?)""",
                (fingerprint, provider, endpoint, json.dumps(dict(arguments)), time.time()),
            )
        return int(cursor.lastrowid or 0)

    def end_submission(self, submission: int, outcome: str, detail: str | None = None) -> None:
        with self._transaction() as db:
            db.execute("UPDATE submissions SET outcome = ?, detail = ? WHERE id = ?", (outcome, detail, submission))

    def submissions(self, outcome: str | None = None) -> list[Submission]:
        query = "SELECT id, fingerprint, provider, endpoint, started_at, outcome, request_id, detail FROM submissions"
        rows = self._db.execute(query + " WHERE outcome = ?" if outcome else query, (outcome,) if outcome else ())
        return [Submission(*row) for row in rows]

    def duplicate_of(self, fingerprint: str, since: float) -> JobRecord | None:
        """The newest job with this fingerprint since `since` that is still pending or has its video."""
        row = self._db.execute(
            """SELECT * FROM jobs WHERE fingerprint = ? AND created_at >= ?
               AND status IN ('queued', 'in_progress', 'completed') ORDER BY created_at DESC LIMIT 1""",
            (fingerprint, since),
        ).fetchone()
        return JobRecord.from_row(row) if row else None

    def unconfirmed_submission(self, fingerprint: str, since: float) -> Submission | None:
        """An identical submit since `since` whose fate is unknown: its answer was lost, or its process died."""
        row = self._db.execute(
            """SELECT id, fingerprint, provider, endpoint, started_at, outcome, request_id, detail FROM submissions
               WHERE fingerprint = ? AND started_at >= ? AND outcome IN ('sending', 'uncertain')
               ORDER BY started_at DESC LIMIT 1""",
            (fingerprint, since),
        ).fetchone()
        return Submission(*row) if row else None

    def get(self, request_id: str) -> JobRecord | None:
        row = self._db.execute("SELECT * FROM jobs WHERE request_id = ?", (request_id,)).fetchone()
        return JobRecord.from_row(row) if row else None

    def require(self, request_id: str) -> JobRecord:
        record = self.get(request_id)
        if record is None:
            raise KeyError(request_id)
        return record

    def update(self, request_id: str, *, event: tuple[str, str | None] | None = None, **fields: Any) -> JobRecord:
        """Change columns (JSON-encoding `result`) and optionally log an event, in one transaction."""
        if "result" in fields and fields["result"] is not None:
            fields["result"] = json.dumps(fields["result"])
        fields["updated_at"] = time.time()
        assignments = ", ".join(f"{name} = ?" for name in fields)
        with self._transaction() as db:
            db.execute(f"UPDATE jobs SET {assignments} WHERE request_id = ?", (*fields.values(), request_id))
            if event is not None:
                self._event(db, request_id, *event)
        return self.require(request_id)

    def record_event(self, request_id: str, event: str, detail: str | None = None) -> None:
        with self._transaction() as db:
            self._event(db, request_id, event, detail)

    @staticmethod
    def _event(db: sqlite3.Connection, request_id: str, event: str, detail: str | None) -> None:
        db.execute(
            "INSERT INTO job_events (request_id, at, event, detail) VALUES (?, ?, ?, ?)",
            (request_id, time.time(), event, detail),
        )

    def events(self, request_id: str) -> list[JobEvent]:
        rows = self._db.execute(
            "SELECT at, event, detail FROM job_events WHERE request_id = ? ORDER BY id", (request_id,)
        )
        return [JobEvent(*row) for row in rows]

    def uploaded(self, sha256: str, provider: str, since: float) -> str | None:
        row = self._db.execute(
            "SELECT url FROM uploads WHERE sha256 = ? AND provider = ? AND uploaded_at >= ?", (sha256, provider, since)
        ).fetchone()
        return str(row[0]) if row else None

    def record_upload(self, sha256: str, provider: str, url: str) -> None:
        with self._transaction() as db:
            db.execute("INSERT OR REPLACE INTO uploads VALUES (?, ?, ?, ?)", (sha256, provider, url, time.time()))

    def spent_since(self, since: float) -> float:
        """The upper estimate of every paid job submitted since `since` that was not cancelled or refused."""
        row = self._db.execute(
            """SELECT COALESCE(SUM(estimate_max_usd), 0) FROM jobs
               WHERE created_at >= ? AND preview = 0 AND status != 'cancelled'""",
            (since,),
        ).fetchone()
        return float(row[0])

    def recent(self, limit: int = 50, status: str | None = None) -> list[JobRecord]:
        if status is None:
            rows = self._db.execute("SELECT * FROM jobs ORDER BY created_at DESC LIMIT ?", (limit,))
        else:
            rows = self._db.execute(
                "SELECT * FROM jobs WHERE status = ? ORDER BY created_at DESC LIMIT ?", (status, limit)
            )
        return [JobRecord.from_row(row) for row in rows]

    def unfinished(self) -> list[JobRecord]:
        rows = self._db.execute("SELECT * FROM jobs WHERE status IN ('queued', 'in_progress') ORDER BY created_at")
        return [JobRecord.from_row(row) for row in rows]

    def save_film(self, film: FilmRecord) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO films VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    film.film_id,
                    film.title,
                    json.dumps(film.request_ids),
                    film.transition,
                    film.path,
                    json.dumps(film.facts),
                    film.created_at,
                ),
            )

    def film(self, film_id: str) -> FilmRecord | None:
        row = self._db.execute("SELECT * FROM films WHERE film_id = ?", (film_id,)).fetchone()
        return FilmRecord.from_row(row) if row else None

    def films(self, limit: int = 50) -> list[FilmRecord]:
        rows = self._db.execute("SELECT * FROM films ORDER BY created_at DESC LIMIT ?", (limit,))
        return [FilmRecord.from_row(row) for row in rows]
