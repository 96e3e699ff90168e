"""The job ledger, the source of truth for every job: SQLite embedded, or PostgreSQL shared by replicas."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from server.ledger.base import Budget, InFlightCap, Ledger
from server.ledger.records import FilmRecord, JobEvent, JobRecord, Submission

if TYPE_CHECKING:
    from server.settings import Settings

__all__ = ["Budget", "FilmRecord", "InFlightCap", "JobEvent", "JobRecord", "Ledger", "Submission", "open_ledger"]


@asynccontextmanager
async def open_ledger(settings: Settings) -> AsyncIterator[Ledger]:
    """The ledger the settings name, migrated and ready; closed on the way out."""
    ledger: Ledger
    if settings.database_url:
        from server.ledger.postgres import PostgresLedger  # psycopg is the `postgres` extra

        ledger = await PostgresLedger.open(settings.database_url)
    else:
        from server.ledger.sqlite import SqliteLedger

        ledger = SqliteLedger(settings.ledger_path)
    try:
        yield ledger
    finally:
        await ledger.close()
