"""What each ledger backend supplies: a connection, transactions, claims and change notices.

Everything the server asks of the ledger is written once, over these, in `base.py`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from server.ledger.records import Row

Params = Sequence[Any]
IN_BATCH = 500  # ids in one statement's `IN (...)`: well under either database's limit on parameters
Changed = Callable[[str, bool], None]  # (request_id, finished by another replica): see listen


class Transaction(Protocol):
    async def execute(self, sql: str, params: Params = ()) -> None: ...

    async def one(self, sql: str, params: Params = ()) -> Row | None: ...


class Store(ABC):
    """What a backend supplies: a connection, its transactions, and a way to tell other replicas of changes."""

    description: str  # where it is, for the start-up log line: never a password

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """All or nothing: what is written inside is seen by others only once it returns."""

    @abstractmethod
    async def _one(self, sql: str, params: Params = ()) -> Row | None: ...

    @abstractmethod
    async def _all(self, sql: str, params: Params = ()) -> list[Row]: ...

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    def claim(self, key: str) -> AbstractAsyncContextManager[None]:
        """Hold `key` against every other caller of this ledger, in any replica, until the block ends."""

    @abstractmethod
    async def listen(self, changed: Changed) -> None:
        """Call `changed(request_id, finished_elsewhere)` whenever any replica changes a job, the second
        true when another replica has just finished it; runs until cancelled."""

    async def written_elsewhere(self) -> bool:
        """Whether another process may have changed the ledger since this was last asked: where it cannot
        say, always. The process's shared re-read (see `Waiter.reread`) is skipped when not."""
        return True

    async def ping(self) -> None:
        """A real query, for readiness: it raises unless the database answers and holds the jobs table."""
        await self._one("SELECT count(*) AS n FROM jobs WHERE 1 = 0")

    async def _announce(self, db: Transaction, request_id: str, finished: bool) -> None:
        """Tell other replicas a job changed, on commit. Nothing to do where there are none to tell."""
        return None

    async def _serialize(self, db: Transaction, key: str) -> None:
        """Within a transaction, wait for any other holding `key`; SQLite's write lock already does."""
        return None


def in_batches(ids: Sequence[str]) -> Iterator[tuple[str, Sequence[str]]]:
    """`ids` a statement's worth at a time, each with the placeholders its `IN (...)` needs."""
    for start in range(0, len(ids), IN_BATCH):
        batch = ids[start : start + IN_BATCH]
        yield ", ".join("?" * len(batch)), batch
