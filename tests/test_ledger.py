"""The ledger, on both backends: the same tests run on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import anyio
import psycopg
import pytest

from server.ledger import FilmRecord, Ledger
from server.ledger.migrations import MIGRATIONS
from server.ledger.postgres import safe_description
from server.ledger.sqlite import SqliteLedger
from tests.ledgers import T2V, Store, add

pytestmark = pytest.mark.anyio

EXPECTED_JOB_COLUMNS = [
    "request_id",
    "provider",
    "endpoint",
    "mode",
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
    "follower",
    "lease_until",
    "owner",
    "model",
    "draft_of",
    "cost_usd",
    "task_id",
    "task_expires_at",
    "hook",
    "hook_due",
]


async def test_a_new_ledger_has_every_column_and_records_each_migration_once(store: Store, ledger: Ledger):
    assert store.columns("jobs") == EXPECTED_JOB_COLUMNS
    assert [row[0] for row in store.query("SELECT name FROM _migrations ORDER BY name")] == [m.name for m in MIGRATIONS]
    if store.kind == "sqlite":
        assert store.query("PRAGMA journal_mode") == [("wal",)]  # readers look while jobs run


async def test_reopening_a_ledger_keeps_its_jobs_and_applies_no_migration_twice(store: Store, ledger: Ledger):
    await add(ledger, "r1", queue_position=3)
    await ledger.close()
    reopened = await store.open()
    try:
        record = await reopened.require("r1")
        assert (record.status, record.queue_position, record.arguments) == ("queued", 3, {"prompt": "r1"})
        assert [event.event for event in await reopened.events("r1")] == ["submitted"]
    finally:
        await reopened.close()
    assert len(store.query("SELECT name FROM _migrations")) == len(MIGRATIONS)


async def test_replicas_starting_together_migrate_once(store: Store):
    opened: list[Ledger] = []

    async def start() -> None:
        if store.kind == "sqlite":  # it migrates as it is made: made in threads, at once
            opened.append(await anyio.to_thread.run_sync(SqliteLedger, store.path))
        else:
            opened.append(await store.open())

    async with anyio.create_task_group() as tg:
        for _ in range(4):
            tg.start_soon(start)
    for each in opened:
        await each.close()
    assert len(opened) == 4
    assert sorted(row[0] for row in store.query("SELECT name FROM _migrations")) == [m.name for m in MIGRATIONS]


def test_processes_opening_a_new_sqlite_file_at_once_all_open_it(tmp_path: Path):
    """The first openers of a new file race to put it in WAL mode, and SQLite refuses the loser at once
    rather than waiting: one round in about 17 of four starting together failed before the switch was
    tried again."""
    failures: list[str] = []

    def open_and_close(path: Path) -> None:
        try:
            SqliteLedger(path)._db.close()
        except sqlite3.Error as exc:
            failures.append(repr(exc))

    for attempt in range(50):
        path = tmp_path / f"{attempt}" / "jobs.sqlite3"
        starting = [threading.Thread(target=open_and_close, args=(path,)) for _ in range(4)]
        for thread in starting:
            thread.start()
        for thread in starting:
            thread.join()
    assert failures == []


async def test_a_job_reads_back_as_written_with_its_events(ledger: Ledger):
    await add(ledger, "r1", estimate=(0.5, 1.25), preview=True)
    record = await ledger.update("r1", status="in_progress", started_at=123.5, event=("started", None))
    assert (record.status, record.started_at, record.preview) == ("in_progress", 123.5, True)
    assert record.estimate_max_usd == 1.25
    result = {"url": "https://cdn/v.mp4", "duration": 5.0, "seed": 7}
    done = await ledger.update("r1", status="completed", result=result, finished_at=130.0, event=("completed", "ok"))
    assert done.result == result and done.finished and done.updated_at >= record.updated_at
    await ledger.record_event("r1", "reused", "an identical call")
    assert [(e.event, e.detail) for e in await ledger.events("r1")] == [
        ("submitted", f"fal {T2V}"),
        ("started", None),
        ("completed", "ok"),
        ("reused", "an identical call"),
    ]
    assert await ledger.get("nope") is None
    with pytest.raises(KeyError):
        await ledger.require("nope")


async def test_submit_attempts_are_numbered_and_end_accepted_refused_or_uncertain(ledger: Ledger):
    now = time.time()
    first = await ledger.begin_submission(fingerprint="f1", provider="fal", endpoint=T2V, arguments={"prompt": "a"})
    second = await ledger.begin_submission(fingerprint="f2", provider="fal", endpoint=T2V, arguments={"prompt": "b"})
    third = await ledger.begin_submission(fingerprint="f3", provider="fal", endpoint=T2V, arguments={"prompt": "c"})
    assert first < second < third
    await add(ledger, "r1", submission=first, fingerprint="f1")
    await ledger.end_submission(second, "refused", "422 from the host")
    assert [(s.id, s.outcome, s.request_id) for s in await ledger.submissions()] == [
        (first, "accepted", "r1"),
        (second, "refused", None),
        (third, "sending", None),
    ]
    assert [s.detail for s in await ledger.submissions("refused")] == ["422 from the host"]
    pending = await ledger.unconfirmed_submission("f3", now - 1)
    assert pending is not None and pending.id == third
    await ledger.end_submission(third, "uncertain", "the answer was lost")
    assert (await ledger.unconfirmed_submission("f3", now - 1)) is not None
    assert await ledger.unconfirmed_submission("f3", time.time() + 1) is None  # outside the window
    assert await ledger.unconfirmed_submission("f1", now - 1) is None  # accepted: its fate is known


async def test_an_identical_call_finds_the_newest_job_still_worth_reusing(ledger: Ledger):
    since = time.time() - 1
    for request_id, status in [("old", "completed"), ("failed", "failed"), ("newer", "in_progress")]:
        await add(ledger, request_id, fingerprint="same")
        await ledger.update(request_id, status=status)
    found = await ledger.duplicate_of("same", since)
    assert found is not None and found.request_id == "newer"
    await ledger.update("newer", status="cancelled")
    found = await ledger.duplicate_of("same", since)
    assert found is not None and found.request_id == "old"
    assert await ledger.duplicate_of("same", time.time() + 1) is None
    assert await ledger.duplicate_of("other", since) is None


async def test_an_upload_is_remembered_by_content_and_replaced_when_sent_again(ledger: Ledger):
    since = time.time() - 1
    assert await ledger.uploaded("abc", "fal", since) is None
    await ledger.record_upload("abc", "fal", "https://cdn/1.png")
    assert await ledger.uploaded("abc", "fal", since) == "https://cdn/1.png"
    assert await ledger.uploaded("abc", "runflow", since) is None  # another host has not seen it
    await ledger.record_upload("abc", "fal", "https://cdn/2.png")
    assert await ledger.uploaded("abc", "fal", since) == "https://cdn/2.png"
    assert await ledger.uploaded("abc", "fal", time.time() + 1) is None  # too old to trust


async def test_spending_counts_paid_jobs_that_were_not_cancelled(ledger: Ledger):
    since = time.time() - 1
    await add(ledger, "paid", estimate=(1.0, 2.5), owner="alice")
    await add(ledger, "failed", estimate=(1.0, 1.0), owner="bob")
    await ledger.update("failed", status="failed")  # a failure at the host may still be billed: counted
    await add(ledger, "cancelled", estimate=(4.0, 4.0))
    await ledger.update("cancelled", status="cancelled")
    await add(ledger, "preview", estimate=(9.0, 9.0), preview=True)
    assert await ledger.spent_since(since) == pytest.approx((3.5, 0.0))  # the team's, and nobody's own
    assert await ledger.spent_since(since, "alice") == pytest.approx((3.5, 2.5))
    assert await ledger.spent_since(since, "carol") == pytest.approx((3.5, 0.0))
    assert await ledger.spent_since(time.time() + 1, "alice") == (0.0, 0.0)


async def test_recent_and_unfinished_jobs_come_in_order(ledger: Ledger):
    for request_id, owner in (("a", "alice"), ("b", "bob"), ("c", "alice"), ("d", None)):
        await add(ledger, request_id, owner=owner)
    await ledger.update("b", status="completed")
    await ledger.update("c", status="in_progress")
    assert [r.request_id for r in await ledger.recent()] == ["d", "c", "b", "a"]
    assert [r.request_id for r in await ledger.recent(limit=2)] == ["d", "c"]
    assert [r.request_id for r in await ledger.recent(status="completed")] == ["b"]
    assert [r.request_id for r in await ledger.recent(owner="alice")] == ["c", "a"]
    assert [r.request_id for r in await ledger.recent(status="completed", owner="alice")] == []
    assert (await ledger.require("c")).owner == "alice"
    assert [r.request_id for r in await ledger.unfinished()] == ["a", "c", "d"]


async def test_a_film_is_saved_replaced_and_listed_newest_first(ledger: Ledger):
    def film(film_id: str, at: float, title: str) -> FilmRecord:
        return FilmRecord(film_id, title, ["a", "b"], "cut", f"/films/{film_id}.mp4", {"method": "stream copy"}, at)

    await ledger.save_film(film("f1", 1.0, "first"))
    await ledger.save_film(film("f2", 2.0, "second"))
    await ledger.save_film(film("f1", 3.0, "first, again"))
    assert await ledger.film("f1") == film("f1", 3.0, "first, again")
    assert await ledger.film("none") is None
    assert [f.film_id for f in await ledger.films()] == ["f1", "f2"]


async def test_a_transaction_that_fails_leaves_nothing_behind(ledger: Ledger):
    with pytest.raises(RuntimeError):
        async with ledger.transaction() as db:
            await db.execute("INSERT INTO uploads VALUES (?, ?, ?, ?)", ("x", "fal", "https://cdn/x", time.time()))
            raise RuntimeError("the process failed half way")
    assert await ledger.uploaded("x", "fal", 0) is None


def test_the_database_is_named_in_logs_without_its_password():
    url = "postgresql://team:s3cret-pass@db.internal:6543/seedance?sslmode=require"
    assert safe_description(url) == "postgresql://team@db.internal:6543/seedance"


async def test_a_ledger_from_before_models_keeps_its_jobs_under_the_model_their_tier_was(store: Store):
    """Jobs recorded with the old `tier` column read back as Seedance 2.0 and 2.0 fast after the upgrade."""
    old = MIGRATIONS[: [step.name for step in MIGRATIONS].index("m009_models")]
    statements = [s for step in old for s in (step.postgres() if store.kind == "postgres" else step.statements)]
    statements += [
        "CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)",
        *(f"INSERT INTO _migrations VALUES ('{step.name}', 0)" for step in old),
        *(
            "INSERT INTO jobs (request_id, provider, endpoint, mode, tier, arguments, handle, estimate_min_usd, "
            f"estimate_max_usd, status, created_at, updated_at) VALUES ('{rid}', 'fal', '{T2V}', 'text-to-video', "
            f"'{tier}', '{{}}', '{{}}', 1, 2, 'completed', 0, 0)"
            for rid, tier in (("old-standard", "standard"), ("old-fast", "fast"))
        ),
    ]
    if store.kind == "postgres":
        with psycopg.connect(store.url) as connection:
            for statement in statements:
                connection.execute(statement.replace("REAL NOT NULL)", "DOUBLE PRECISION NOT NULL)"))
    else:
        with sqlite3.connect(store.path) as connection:
            for statement in statements:
                connection.execute(statement)
    upgraded = await store.open()
    try:
        assert (await upgraded.require("old-standard")).model == "seedance-2.0"
        assert (await upgraded.require("old-fast")).model == "seedance-2.0-fast"
    finally:
        await upgraded.close()
    assert "tier" not in store.columns("jobs")
