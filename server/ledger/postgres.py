"""The shared ledger: PostgreSQL, for replicas of the server on several machines.

Every replica keeps a small pool of connections. Statements are the ones `base` writes for both
backends, with `?` turned into psycopg's `%s`. Replicas that start together migrate one at a time,
under an advisory lock, and each finds the steps the first one applied.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import psycopg
from psycopg import AsyncConnection
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from server.ledger.base import Ledger
from server.ledger.migrations import MIGRATIONS
from server.ledger.records import Row
from server.ledger.store import Changed, Params, Transaction

logger = logging.getLogger(__name__)

POOL_SIZE = (1, 10)  # connections per replica: fewest kept open, most at once
CLAIMS_POOL_SIZE = 10  # more, for claims: each holds one while its submit is sent
CLAIM_WAIT_SECONDS = 120.0  # how long a claim may wait for a connection when all are taken
MIGRATION_LOCK = 0x5EED_0001  # the advisory lock the replicas take in turn to migrate
CHANNEL = "seedance_jobs"  # NOTIFY's channel: the payload is `<request_id> <origin> <finished 0|1>`
RELISTEN_SECONDS = 1.0  # after losing the change feed; waiters poll meanwhile
# A replica stopped inside a transaction (paused, cut off) would hold its rows' locks for ever, and every
# replica that tries to take its jobs over would wait on them: the server ends such a session after this.
# The main pool's transactions are a few statements with nothing else awaited, so none idles this long.
IDLE_IN_TRANSACTION_MS = 5000

Connection = AsyncConnection[dict[str, Any]]
# Every pooled connection. Its name, unless the URL gives one, tells an operator's pg_stat_activity which
# process on which machine holds it.
CONNECTION_OPTIONS: dict[str, Any] = {
    "autocommit": True,
    "row_factory": dict_row,
    "fallback_application_name": f"seedance-mcp:{socket.gethostname()}:{os.getpid()}"[:63],
}


def _sql(statement: str) -> str:
    return statement.replace("?", "%s")


async def _end_stalled_transactions(connection: Connection) -> None:
    await connection.execute(f"SET idle_in_transaction_session_timeout = {IDLE_IN_TRANSACTION_MS}")


def lock_id(key: str) -> int:
    """An advisory lock's number for a key: 64 bits of its hash."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)


def safe_description(url: str) -> str:
    """Where the database is, for the logs: user, host, port and name, never the password."""
    parts = conninfo_to_dict(url)
    host = parts.get("host") or "localhost"
    user = f"{parts['user']}@" if parts.get("user") else ""
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"postgresql://{user}{host}{port}/{parts.get('dbname') or ''}"


class _PostgresTransaction:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    async def execute(self, sql: str, params: Params = ()) -> None:
        PostgresLedger.round_trips += 1
        await self._connection.execute(_sql(sql), params)

    async def one(self, sql: str, params: Params = ()) -> Row | None:
        PostgresLedger.round_trips += 1
        cursor = await self._connection.execute(_sql(sql), params)
        return await cursor.fetchone()


class PostgresLedger(Ledger):
    round_trips = 0  # statements this process's ledgers sent, BEGIN and COMMIT included: for the benchmark

    def __init__(self, url: str) -> None:
        self.description = safe_description(url)
        self._origin = uuid.uuid4().hex[:12]  # names this replica's announcements, so it can tell its own
        self._url = url
        self._claims: dict[str, anyio.Lock] = {}
        self._pool: AsyncConnectionPool[Connection] = AsyncConnectionPool(
            url,
            min_size=POOL_SIZE[0],
            max_size=POOL_SIZE[1],
            open=False,
            kwargs=CONNECTION_OPTIONS,
            configure=_end_stalled_transactions,
            name="seedance-ledger",
        )
        # Claims have their own connections: a claim is held while its block reads and writes through the
        # main pool, so sharing one pool would let ten claims take every connection their blocks need.
        self._claim_pool: AsyncConnectionPool[Connection] = AsyncConnectionPool(
            url,
            min_size=0,
            max_size=CLAIMS_POOL_SIZE,
            open=False,
            timeout=CLAIM_WAIT_SECONDS,
            kwargs=CONNECTION_OPTIONS,
            name="seedance-claims",
        )

    @classmethod
    async def open(cls, url: str) -> PostgresLedger:
        ledger = cls(url)
        await ledger._pool.open(wait=True, timeout=30)
        try:
            await ledger._claim_pool.open()
            await ledger._migrate()
        except BaseException:
            await ledger.close()
            raise
        return ledger

    async def _migrate(self) -> None:
        async with self._pool.connection() as connection, connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            await connection.execute(
                "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)"
            )
            cursor = await connection.execute("SELECT name FROM _migrations")
            applied = {row["name"] for row in await cursor.fetchall()}
            for step in MIGRATIONS:
                if step.name not in applied:
                    for statement in step.postgres():
                        await connection.execute(statement)
                    await connection.execute("INSERT INTO _migrations VALUES (%s, %s)", (step.name, time.time()))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        PostgresLedger.round_trips += 2  # BEGIN, COMMIT
        async with self._pool.connection() as connection, connection.transaction():
            yield _PostgresTransaction(connection)

    async def _one(self, sql: str, params: Params = ()) -> Row | None:
        PostgresLedger.round_trips += 1
        async with self._pool.connection() as connection:
            cursor = await connection.execute(_sql(sql), params)
            return await cursor.fetchone()

    async def _all(self, sql: str, params: Params = ()) -> list[Row]:
        PostgresLedger.round_trips += 1
        async with self._pool.connection() as connection:
            cursor = await connection.execute(_sql(sql), params)
            return list(await cursor.fetchall())

    async def _announce(self, db: Transaction, request_id: str, finished: bool) -> None:
        await db.execute("SELECT pg_notify(?, ?)", (CHANNEL, f"{request_id} {self._origin} {int(finished)}"))

    async def _serialize(self, db: Transaction, key: str) -> None:
        await db.execute("SELECT pg_advisory_xact_lock(?)", (lock_id(key),))

    @asynccontextmanager
    async def claim(self, key: str) -> AsyncIterator[None]:
        """One holder across replicas: an advisory lock held by a transaction, so that it is let go however
        the block ends, a dropped connection included. Callers in this process queue first, on one connection."""
        async with (
            self._claims.setdefault(key, anyio.Lock()),
            self._claim_pool.connection() as connection,
            connection.transaction(),
        ):
            PostgresLedger.round_trips += 2  # BEGIN, COMMIT
            await self._serialize(_PostgresTransaction(connection), key)
            yield

    async def listen(self, changed: Changed) -> None:
        while True:
            try:
                async with await AsyncConnection.connect(self._url, autocommit=True) as connection:
                    await connection.execute(f"LISTEN {CHANNEL}")
                    async for note in connection.notifies():
                        request_id, origin, finished = note.payload.rsplit(" ", 2)
                        changed(request_id, finished == "1" and origin != self._origin)
            except psycopg.Error as exc:
                logger.warning("lost the ledger's change feed (%s); waiters poll until it is back", type(exc).__name__)
            await anyio.sleep(RELISTEN_SECONDS)

    async def close(self) -> None:
        await self._claim_pool.close()
        await self._pool.close()
