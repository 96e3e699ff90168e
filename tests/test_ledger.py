"""The ledger's schema and its migrations."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from server.jobs.ledger import MIGRATIONS, Ledger

EXPECTED_JOB_COLUMNS = [
    "request_id",
    "provider",
    "endpoint",
    "mode",
    "tier",
    "arguments",
    "handle",
    "estimate_min_usd",
    "estimate_max_usd",
    "status",
    "queue_position",
    "last_log",
    "result",
    "error",
    "created_at",
    "started_at",
    "updated_at",
    "finished_at",
    "preview",
    "fingerprint",
    "progress",
]


def test_a_new_ledger_has_the_expected_schema_in_wal_mode(tmp_path: Path):
    Ledger(tmp_path / "jobs.sqlite3").close()
    db = sqlite3.connect(tmp_path / "jobs.sqlite3")
    assert [row[1] for row in db.execute("PRAGMA table_info(jobs)")] == EXPECTED_JOB_COLUMNS
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert [row[0] for row in db.execute("SELECT name FROM _migrations")] == [m.__name__ for m in MIGRATIONS]


def test_reopening_a_ledger_keeps_its_jobs_and_applies_no_migration_twice(tmp_path: Path):
    ledger = Ledger(tmp_path / "jobs.sqlite3")
    ledger.add(
        request_id="r1",
        provider="fal",
        endpoint="bytedance/seedance-2.0/text-to-video",
        mode="text-to-video",
        tier="standard",
        arguments={"prompt": "x"},
        handle={"status_url": "http://q/status"},
        estimate=(1.0, 2.0),
        queue_position=3,
    )
    ledger.close()
    reopened = Ledger(tmp_path / "jobs.sqlite3")
    record = reopened.require("r1")
    assert (record.status, record.queue_position, record.arguments) == ("queued", 3, {"prompt": "x"})
    assert [event.event for event in reopened.events("r1")] == ["submitted"]
