"""What one person may do at once, counted in the ledger, so that every replica counts the same.

Tool calls are counted per person and UTC minute; paid jobs in flight are the person's unfinished paid jobs
plus their paid submits still being sent. Both are read and written in one transaction, in turn with every
replica, so that two calls at once on two replicas cannot both take the last place.
"""

from __future__ import annotations

import time
from typing import Any

from server.ledger.store import Store, Transaction

UNFINISHED = "status IN ('queued', 'in_progress')"
SENDING_SECONDS = 900.0  # a submit still "sending" after this was lost with its process: it holds no place
_IN_FLIGHT = f"""SELECT (SELECT count(*) FROM jobs WHERE {UNFINISHED} AND preview = 0 AND {{mine}})
  + (SELECT count(*) FROM submissions
     WHERE outcome = 'sending' AND estimate_max_usd > 0 AND started_at >= ? AND {{mine}}) AS n"""
IN_FLIGHT = {True: _IN_FLIGHT.format(mine="owner IS NULL"), False: _IN_FLIGHT.format(mine="owner = ?")}


def in_flight_lock(owner: str | None) -> str:
    """The key a person's paid submits take in turn, across replicas."""
    return f"in flight {owner or ''}"


def _in_flight(owner: str | None) -> tuple[str, tuple[Any, ...]]:
    since = time.time() - SENDING_SECONDS
    return IN_FLIGHT[owner is None], (since,) if owner is None else (owner, since, owner)


async def in_flight(db: Transaction, owner: str | None) -> int:
    """`owner`'s unfinished paid jobs and paid submits on their way (None: those nobody signed in for)."""
    row = await db.one(*_in_flight(owner))
    return int(row["n"]) if row else 0


class Quotas(Store):
    async def jobs_in_flight(self, owner: str | None) -> int:
        """`in_flight` as it is now, for a first check before the cost question; the submit checks again. One
        statement sees one snapshot, so it needs no transaction: one round trip, for a flood's every call."""
        row = await self._one(*_in_flight(owner))
        return int(row["n"]) if row else 0

    async def count_call(self, person: str, now: float) -> int:
        """Count one tool call of `person` in the current UTC minute; how many they made in it, this one too."""
        minute = int(now // 60)
        row = await self._one(  # one statement, so one round trip: it is made for every tool call
            """INSERT INTO calls (person, minute, count) VALUES (?, ?, 1)
               ON CONFLICT (person, minute) DO UPDATE SET count = calls.count + 1 RETURNING count""",
            (person, minute),
        )
        assert row is not None
        if row["count"] == 1:  # a new minute for someone: the table keeps only the last two
            async with self.transaction() as db:
                await db.execute("DELETE FROM calls WHERE minute < ?", (minute - 1,))
        return int(row["count"])
