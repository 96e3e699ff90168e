"""The ledger's interface, with every query written once in the SQL both backends speak.

A row is written the moment the provider returns a request id, before any waiting, so a paid job
survives a crash, a client timeout or a restart. Backends supply only a connection: statements use `?`
placeholders, `ON CONFLICT` for upserts and `RETURNING` for new ids, which SQLite and PostgreSQL share.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from server.catalog import TERMINAL_STATUSES, Mode, Model
from server.ledger.leases import Leases
from server.ledger.quotas import UNFINISHED, Quotas, in_flight, in_flight_lock
from server.ledger.records import FilmRecord, JobEvent, JobRecord, Row, Submission
from server.ledger.store import Params, Transaction, in_batches

SUBMISSION_COLUMNS = "id, fingerprint, provider, endpoint, started_at, outcome, request_id, detail"
# Paid jobs not cancelled, and paid submits whose answer has not come (or was lost): a job counts from the
# moment its submit is sent, so two calls on two replicas cannot both fit the last dollars of a budget.
_SPENT_BY = """(SELECT COALESCE(SUM(COALESCE(cost_usd, estimate_max_usd)), 0) FROM jobs
     WHERE created_at >= ? AND preview = 0 AND status != 'cancelled' {mine})
  + (SELECT COALESCE(SUM(estimate_max_usd), 0) FROM submissions
     WHERE started_at >= ? AND outcome IN ('sending', 'uncertain') {mine})"""
# The team's spend, and one person's part of it, in one round trip.
SPENT = f"SELECT {_SPENT_BY.format(mine='')} AS team, {_SPENT_BY.format(mine='AND owner = ?')} AS own"
BUDGET_LOCK = "budget"  # the key every budget-checked submit takes in turn
Budget = tuple[float, Callable[[float, float], None]]  # (since, check(team's, owner's spent)): begin_submission
InFlightCap = tuple[int, Callable[[int], None]]  # (cap, refuse(how many in flight)): begin_submission


class Ledger(Quotas, Leases):
    """The source of truth for jobs: SQLite in one process, PostgreSQL when replicas share it."""

    async def add(
        self,
        *,
        request_id: str,
        provider: str,
        endpoint: str,
        mode: Mode,
        model: Model,
        arguments: Mapping[str, Any],
        handle: Mapping[str, str],
        estimate: tuple[float, float],
        queue_position: int | None,
        preview: bool = False,
        submission: int | None = None,
        fingerprint: str | None = None,
        lease: tuple[str, float] | None = None,
        owner: str | None = None,
        draft_of: str | None = None,
        hook: tuple[str, float] | None = None,
    ) -> JobRecord:
        """Record an accepted job, and mark the submit attempt that started it, in one transaction.

        `lease` (follower, seconds) makes the submitting replica its follower from the first moment: if it
        dies before it starts following, the lease runs out and another replica takes the job over. `hook`
        (digest, due) is for a job whose host calls back (see `Leases.hooked`)."""
        now = time.time()
        follower, until = (lease[0], now + lease[1]) if lease else (None, None)
        digest, due = hook if hook else (None, None)
        async with self.transaction() as db:
            await db.execute(
                """INSERT INTO jobs (request_id, provider, endpoint, mode, model, arguments, handle,
                   estimate_min_usd, estimate_max_usd, status, queue_position, created_at, updated_at, preview,
                   fingerprint, follower, lease_until, owner, draft_of, hook, hook_due)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    request_id,
                    provider,
                    endpoint,
                    mode,
                    model,
                    json.dumps(dict(arguments)),
                    json.dumps(dict(handle)),
                    estimate[0],
                    estimate[1],
                    queue_position,
                    now,
                    now,
                    int(preview),
                    fingerprint,
                    follower,
                    until,
                    owner,
                    draft_of,
                    digest,
                    due,
                ),
            )
            if submission is not None:
                await db.execute(
                    "UPDATE submissions SET outcome = 'accepted', request_id = ? WHERE id = ?", (request_id, submission)
                )
            await _event(db, request_id, "submitted", f"{provider} {endpoint}")
        return await self.require(request_id)

    async def begin_submission(
        self,
        *,
        fingerprint: str,
        provider: str,
        endpoint: str,
        arguments: Mapping[str, Any],
        cost: float = 0.0,
        budget: Budget | None = None,
        owner: str | None = None,
        in_flight_cap: InFlightCap | None = None,
    ) -> int:
        """Record a submit about to be sent, with the most it may cost, and who sent it.

        With `budget` (since, check), `check(team, own)` runs first on what the team and the owner spent
        since `since`, in the same transaction, taken in turn by every replica: it raises to refuse, and then
        nothing is recorded. With `in_flight_cap` (cap, refuse), `refuse(n)` runs when the owner already has
        `cap` paid jobs in flight, likewise in turn."""
        async with self.transaction() as db:
            if budget is not None:
                since, check = budget
                await self._serialize(db, BUDGET_LOCK)
                check(*await _spent(db.one, since, owner))
            if in_flight_cap is not None:  # after the budget's lock, always in that order: no deadlock
                cap, refuse = in_flight_cap
                await self._serialize(db, in_flight_lock(owner))
                if (count := await in_flight(db, owner)) >= cap:
                    refuse(count)
            row = await db.one(
                """INSERT INTO submissions (fingerprint, provider, endpoint, arguments, started_at, estimate_max_usd,
                   owner) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id""",
                (fingerprint, provider, endpoint, json.dumps(dict(arguments)), time.time(), cost, owner),
            )
        assert row is not None
        return int(row["id"])

    async def end_submission(self, submission: int, outcome: str, detail: str | None = None) -> None:
        async with self.transaction() as db:
            await db.execute(
                "UPDATE submissions SET outcome = ?, detail = ? WHERE id = ?", (outcome, detail, submission)
            )

    async def submissions(self, outcome: str | None = None) -> list[Submission]:
        query = f"SELECT {SUBMISSION_COLUMNS} FROM submissions"
        if outcome:
            rows = await self._all(query + " WHERE outcome = ? ORDER BY id", (outcome,))
        else:
            rows = await self._all(query + " ORDER BY id")
        return [Submission(**row) for row in rows]

    async def duplicate_of(self, fingerprint: str, since: float) -> JobRecord | None:
        """The newest job with this fingerprint since `since` that is still pending or has its video."""
        row = await self._one(
            """SELECT * FROM jobs WHERE fingerprint = ? AND created_at >= ?
               AND status IN ('queued', 'in_progress', 'completed') ORDER BY created_at DESC LIMIT 1""",
            (fingerprint, since),
        )
        return JobRecord.from_row(row) if row else None

    async def unconfirmed_submission(self, fingerprint: str, since: float) -> Submission | None:
        """An identical submit since `since` whose fate is unknown: its answer was lost, or its process died."""
        row = await self._one(
            f"""SELECT {SUBMISSION_COLUMNS} FROM submissions
               WHERE fingerprint = ? AND started_at >= ? AND outcome IN ('sending', 'uncertain')
               ORDER BY started_at DESC LIMIT 1""",
            (fingerprint, since),
        )
        return Submission(**row) if row else None

    async def get(self, request_id: str) -> JobRecord | None:
        row = await self._one("SELECT * FROM jobs WHERE request_id = ?", (request_id,))
        return JobRecord.from_row(row) if row else None

    async def updated_at(self, request_ids: Sequence[str]) -> dict[str, float]:
        """When each of these jobs last changed: one query for many jobs, for the process's shared re-read."""
        found: dict[str, float] = {}
        for marks, batch in in_batches(request_ids):
            rows = await self._all(f"SELECT request_id, updated_at FROM jobs WHERE request_id IN ({marks})", batch)
            found.update((row["request_id"], float(row["updated_at"])) for row in rows)
        return found

    async def require(self, request_id: str) -> JobRecord:
        record = await self.get(request_id)
        if record is None:
            raise KeyError(request_id)
        return record

    async def update(self, request_id: str, *, event: tuple[str, str | None] | None = None, **fields: Any) -> JobRecord:
        """Change columns (JSON-encoding `result`) and optionally log an event, in one transaction."""
        if "result" in fields and fields["result"] is not None:
            fields["result"] = json.dumps(fields["result"])
        fields["updated_at"] = time.time()
        assignments = ", ".join(f"{name} = ?" for name in fields)
        async with self.transaction() as db:
            await db.execute(f"UPDATE jobs SET {assignments} WHERE request_id = ?", (*fields.values(), request_id))
            if event is not None:
                await _event(db, request_id, *event)
            await self._announce(db, request_id, fields.get("status") in TERMINAL_STATUSES)
        return await self.require(request_id)

    async def record_event(self, request_id: str, event: str, detail: str | None = None) -> None:
        async with self.transaction() as db:
            await _event(db, request_id, event, detail)

    async def events(self, request_id: str) -> list[JobEvent]:
        rows = await self._all(
            "SELECT at, event, detail FROM job_events WHERE request_id = ? ORDER BY id", (request_id,)
        )
        return [JobEvent(**row) for row in rows]

    async def uploaded(self, sha256: str, provider: str, since: float) -> str | None:
        row = await self._one(
            "SELECT url FROM uploads WHERE sha256 = ? AND provider = ? AND uploaded_at >= ?", (sha256, provider, since)
        )
        return str(row["url"]) if row else None

    async def record_upload(self, sha256: str, provider: str, url: str) -> None:
        async with self.transaction() as db:
            await db.execute(
                """INSERT INTO uploads (sha256, provider, url, uploaded_at) VALUES (?, ?, ?, ?)
                   ON CONFLICT (sha256, provider)
                   DO UPDATE SET url = excluded.url, uploaded_at = excluded.uploaded_at""",
                (sha256, provider, url, time.time()),
            )

    async def spent_since(self, since: float, owner: str | None = None) -> tuple[float, float]:
        """The upper estimate of every paid job since `since` that was not cancelled or refused: the team's,
        and `owner`'s."""
        return await _spent(self._one, since, owner)

    async def recent(self, limit: int = 50, status: str | None = None, *, owner: str | None = None) -> list[JobRecord]:
        """The newest jobs: `owner`'s only, or everyone's when it is None."""
        where = [(status is not None, "status = ?", status), (owner is not None, "owner = ?", owner)]
        conditions = " AND ".join(sql for wanted, sql, _ in where if wanted)
        params = tuple(value for wanted, _, value in where if wanted)
        rows = await self._all(
            f"SELECT * FROM jobs {'WHERE ' + conditions if conditions else ''} ORDER BY created_at DESC LIMIT ?",
            (*params, limit),
        )
        return [JobRecord.from_row(row) for row in rows]

    async def completions_of(self, draft: str) -> list[JobRecord]:
        """The jobs that render the draft `draft` again at full size, newest first."""
        rows = await self._all("SELECT * FROM jobs WHERE draft_of = ? ORDER BY created_at DESC", (draft,))
        return [JobRecord.from_row(row) for row in rows]

    async def open_task(self, request_id: str, task_id: str, expires_at: float) -> JobRecord:
        """The job as a task: `task_id` given to it, unless an identical call gave it one first."""
        async with self.transaction() as db:
            await db.execute(
                "UPDATE jobs SET task_id = COALESCE(task_id, ?), task_expires_at = COALESCE(task_expires_at, ?) "
                "WHERE request_id = ?",
                (task_id, expires_at, request_id),
            )
        return await self.require(request_id)

    async def task(self, task_id: str) -> JobRecord | None:
        row = await self._one("SELECT * FROM jobs WHERE task_id = ?", (task_id,))
        return JobRecord.from_row(row) if row else None

    async def tasks(self, owner: str | None, limit: int, offset: int = 0) -> list[JobRecord]:
        """The jobs followed as tasks, newest first: `owner`'s only, or everyone's when it is None."""
        mine, params = ("AND owner = ?", (owner,)) if owner is not None else ("", ())
        rows = await self._all(
            f"SELECT * FROM jobs WHERE task_id IS NOT NULL {mine} ORDER BY created_at DESC LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return [JobRecord.from_row(row) for row in rows]

    async def forget_tasks(self, now: float) -> None:
        """Tasks past their time to live are removed: the jobs stay, for get_job."""
        async with self.transaction() as db:
            await db.execute("UPDATE jobs SET task_id = NULL, task_expires_at = NULL WHERE task_expires_at < ?", (now,))

    async def unfinished(self) -> list[JobRecord]:
        rows = await self._all(f"SELECT * FROM jobs WHERE {UNFINISHED} ORDER BY created_at")
        return [JobRecord.from_row(row) for row in rows]

    async def save_film(self, film: FilmRecord) -> None:
        async with self.transaction() as db:
            await db.execute(
                """INSERT INTO films (film_id, title, request_ids, transition, path, facts, created_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (film_id) DO UPDATE SET title = excluded.title, request_ids = excluded.request_ids,
                   transition = excluded.transition, path = excluded.path, facts = excluded.facts,
                   created_at = excluded.created_at""",
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

    async def film(self, film_id: str) -> FilmRecord | None:
        row = await self._one("SELECT * FROM films WHERE film_id = ?", (film_id,))
        return FilmRecord.from_row(row) if row else None

    async def films(self, limit: int = 50) -> list[FilmRecord]:
        rows = await self._all("SELECT * FROM films ORDER BY created_at DESC LIMIT ?", (limit,))
        return [FilmRecord.from_row(row) for row in rows]


async def _spent(
    one: Callable[[str, Params], Awaitable[Row | None]], since: float, owner: str | None
) -> tuple[float, float]:
    """What the team and `owner` spent since `since`, read through `one` (a transaction's, or the ledger's)."""
    row = await one(SPENT, (since, since, since, owner, since, owner))
    return (float(row["team"]), float(row["own"])) if row else (0.0, 0.0)


async def _event(db: Transaction, request_id: str, event: str, detail: str | None) -> None:
    await db.execute(
        "INSERT INTO job_events (request_id, at, event, detail) VALUES (?, ?, ?, ?)",
        (request_id, time.time(), event, detail),
    )
