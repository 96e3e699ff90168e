"""Which replica follows each unfinished job: a lease in the ledger, taken, renewed, ended, or left to run out.

Exactly one replica follows a job at a time. It renews its leases a third of a lease apart, all in one
statement; one that stops renewing (it died, or stalled) loses its jobs to the next that finds them orphaned.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from server.ledger.quotas import UNFINISHED
from server.ledger.records import JobRecord
from server.ledger.store import Store, in_batches


class Leases(Store):
    async def take_lease(self, request_id: str, follower: str, seconds: float, *, dead: str | None = None) -> bool:
        """Become the follower of an unfinished job, unless another holds a lease that has not run out
        (or is `dead`: known to have stopped, so its lease need not be waited out)."""
        now = time.time()
        async with self.transaction() as db:
            row = await db.one(
                f"""UPDATE jobs SET follower = ?, lease_until = ? WHERE request_id = ? AND {UNFINISHED}
                   AND (follower IS NULL OR follower = ? OR lease_until < ? OR follower = ?) RETURNING request_id""",
                (follower, now + seconds, request_id, follower, now, dead),
            )
        return row is not None

    async def renew_lease(self, request_id: str, follower: str, seconds: float) -> bool:
        """Keep following; False once another replica has taken the job over (this one was too slow)."""
        return request_id in await self.renew_leases([request_id], follower, seconds)

    async def renew_leases(self, request_ids: Sequence[str], follower: str, seconds: float) -> set[str]:
        """`renew_lease` for every job a replica follows, a statement for each few hundred: those renewed."""
        renewed: set[str] = set()
        until = time.time() + seconds
        for marks, batch in in_batches(request_ids):
            rows = await self._all(
                f"UPDATE jobs SET lease_until = ? WHERE follower = ? AND request_id IN ({marks}) RETURNING request_id",
                (until, follower, *batch),
            )
            renewed.update(row["request_id"] for row in rows)
        return renewed

    async def end_lease(self, request_id: str, follower: str, *, hand_over: bool) -> None:
        """Stop following: `hand_over` lets the next replica take the job at once (this one is stopping);
        otherwise nobody follows it until a caller asks for it again."""
        async with self.transaction() as db:
            await db.execute(
                """UPDATE jobs SET follower = CASE WHEN ? = 1 THEN follower END, lease_until = ?
                   WHERE request_id = ? AND follower = ?""",
                (int(hand_over), 0.0 if hand_over else None, request_id, follower),
            )

    async def hooked(self, digest: str) -> JobRecord | None:
        """The job whose webhook path's token has this sha256."""
        row = await self._one("SELECT * FROM jobs WHERE hook = ?", (digest,))
        return JobRecord.from_row(row) if row is not None else None

    async def postpone_hook(self, request_id: str, due: float) -> None:
        """The host was asked and the job still runs: ask again at `due`, should no webhook come first."""
        await self._all("UPDATE jobs SET hook_due = ? WHERE request_id = ? RETURNING request_id", (due, request_id))

    async def overdue(self, now: float) -> list[JobRecord]:
        """Unfinished jobs whose webhook has not come by its time, and which nobody follows: the host is
        asked itself, so that a lost webhook never strands a job."""
        rows = await self._all(
            f"""SELECT * FROM jobs WHERE {UNFINISHED} AND hook_due < ?
                AND (follower IS NULL OR lease_until < ?) ORDER BY hook_due""",
            (now, now),
        )
        return [JobRecord.from_row(row) for row in rows]

    async def orphans(self) -> list[JobRecord]:
        """Unfinished jobs whose follower stopped renewing its lease: its replica died, or handed them over."""
        rows = await self._all(
            f"""SELECT * FROM jobs WHERE {UNFINISHED} AND follower IS NOT NULL AND lease_until < ?
                AND hook IS NULL ORDER BY created_at""",
            (time.time(),),
        )
        return [JobRecord.from_row(row) for row in rows]
