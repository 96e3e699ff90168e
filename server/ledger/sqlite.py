"""The embedded ledger: one SQLite file, for one process or a few on one machine.

WAL mode lets a reader (another server process, a person with `sqlite3`) look while jobs run. Calls are
quick (well under a millisecond), so they run straight on the event loop rather than hopping to a thread.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio

from server.ledger.base import Ledger
from server.ledger.migrations import MIGRATIONS
from server.ledger.records import Row
from server.ledger.store import Changed, Params, Transaction

BUSY_SECONDS = 5.0  # how long a statement waits for another process's lock on the file
WAL_RETRY_SECONDS = 0.01


class _Statements:
    """Statements on the one connection: inside a transaction when the ledger has begun one."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    async def execute(self, sql: str, params: Params = ()) -> None:
        self._db.execute(sql, params)

    async def one(self, sql: str, params: Params = ()) -> Row | None:
        row = self._db.execute(sql, params).fetchone()
        return dict(row) if row else None

    async def all(self, sql: str, params: Params = ()) -> list[Row]:
        return [dict(row) for row in self._db.execute(sql, params)]


def _write_ahead_log(db: sqlite3.Connection) -> None:
    """Put the file in WAL mode. Processes opening a new file at once race to switch it, and SQLite refuses
    the loser at once ("database is locked") rather than waiting as it does for other locks; so the switch
    is tried again, for as long as any other lock would be waited for."""
    deadline = time.monotonic() + BUSY_SECONDS
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(WAL_RETRY_SECONDS)


class SqliteLedger(Ledger):
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.description = str(path)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=BUSY_SECONDS)
        self._db.row_factory = sqlite3.Row
        _write_ahead_log(self._db)
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._claims: dict[str, anyio.Lock] = {}
        self._statements = _Statements(self._db)
        self._migrate()
        self._data_version = -1

    def _migrate(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")  # one process at a time: the others wait, then find it done
        try:
            self._db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)")
            applied = {row[0] for row in self._db.execute("SELECT name FROM _migrations")}
            for step in MIGRATIONS:
                if step.name not in applied:
                    for statement in step.statements:
                        self._db.execute(statement)
                    self._db.execute("INSERT INTO _migrations VALUES (?, ?)", (step.name, time.time()))
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._statements
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    async def _one(self, sql: str, params: Params = ()) -> Row | None:
        return await self._statements.one(sql, params)

    async def _all(self, sql: str, params: Params = ()) -> list[Row]:
        return await self._statements.all(sql, params)

    @asynccontextmanager
    async def claim(self, key: str) -> AsyncIterator[None]:
        """Within this process: processes sharing one file each hold their own claims."""
        async with self._claims.setdefault(key, anyio.Lock()):
            yield

    async def listen(self, changed: Changed) -> None:
        """SQLite has no change feed: this process wakes its own waiters, and re-reads what it waits on when
        another process has written (see `written_elsewhere`)."""
        await anyio.sleep_forever()

    async def written_elsewhere(self) -> bool:
        """SQLite's `data_version` changes when another connection, another process's, commits to the file;
        this process's own changes are announced to its waiters as it makes them."""
        version = int(self._db.execute("PRAGMA data_version").fetchone()[0])
        changed, self._data_version = version != self._data_version, version
        return changed

    async def close(self) -> None:
        self._db.close()
