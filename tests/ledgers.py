"""A ledger for the ledger tests, on SQLite or on a real PostgreSQL server, and a job to put in it."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from server.ledger import Ledger
from server.ledger.postgres import PostgresLedger
from server.ledger.sqlite import SqliteLedger
from tests.postgres import PostgresServer

T2V = "bytedance/seedance-2.0/text-to-video"


class Store:
    """Where one ledger lives, opened as often as a test likes, and read behind the ledger's back."""

    def __init__(self, kind: str, tmp_path: Path, postgres: Callable[[], PostgresServer]) -> None:
        self.kind = kind
        self.path = tmp_path / "jobs.sqlite3"
        self.url = postgres().fresh_database() if kind == "postgres" else ""

    async def open(self) -> Ledger:
        if self.kind == "postgres":
            return await PostgresLedger.open(self.url)
        return SqliteLedger(self.path)

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        if self.kind == "postgres":
            with psycopg.connect(self.url) as connection:
                return list(connection.execute(sql).fetchall())
        with sqlite3.connect(self.path) as connection:
            return list(connection.execute(sql))

    def columns(self, table: str) -> list[str]:
        if self.kind == "postgres":
            sql = (
                "SELECT column_name FROM information_schema.columns "
                f"WHERE table_name = '{table}' ORDER BY ordinal_position"
            )
            return [row[0] for row in self.query(sql)]
        return [row[1] for row in self.query(f"PRAGMA table_info({table})")]


async def add(ledger: Ledger, request_id: str, **extra: Any) -> None:
    values: dict[str, Any] = {
        "request_id": request_id,
        "provider": "fal",
        "endpoint": T2V,
        "mode": "text-to-video",
        "model": "seedance-2.0",
        "arguments": {"prompt": request_id},
        "handle": {"status_url": f"http://q/{request_id}"},
        "estimate": (1.0, 2.0),
        "queue_position": None,
    }
    await ledger.add(**(values | extra))
