"""The ledger, on both backends: the same tests run on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anyio
import psycopg
import pytest

from server.ledger import FilmRecord, Ledger
from server.ledger.migrations import MIGRATIONS
from server.ledger.postgres import PostgresLedger, safe_description
from server.ledger.sqlite import SqliteLedger
from tests.postgres import PostgresServer

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
]
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


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return Store(request.param, tmp_path, lambda: request.getfixturevalue("postgres"))


@pytest.fixture
async def ledger(store: Store) -> AsyncIterator[Ledger]:
    opened = await store.open()
    try:
        yield opened
    finally:
        await opened.close()


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


async def test_one_replica_follows_a_job_until_its_lease_runs_out_or_is_handed_over(store: Store, ledger: Ledger):
    other = await store.open()  # a second replica, on its own connection
    try:
        await add(ledger, "job", lease=("a", 60.0))
        assert not await other.take_lease("job", "b", 60.0)  # a holds it
        assert await ledger.renew_lease("job", "a", 60.0)
        assert await other.orphans() == []
        await ledger.end_lease("job", "a", hand_over=True)  # a stops: b may take it at once
        assert [r.request_id for r in await other.orphans()] == ["job"]
        assert await other.take_lease("job", "b", 60.0)
        assert not await ledger.renew_lease("job", "a", 60.0)  # a learns it lost the job
        assert (await ledger.require("job")).follower == "b"
        await other.take_lease("job", "b", -1.0)  # b's lease ran out (b died)
        assert [r.request_id for r in await ledger.orphans()] == ["job"]
        assert await ledger.take_lease("job", "a", 60.0)
        await ledger.end_lease("job", "a", hand_over=False)  # paused: nobody follows until asked
        assert await other.orphans() == []
        await ledger.update("job", status="completed")
        assert not await ledger.take_lease("job", "a", 60.0)  # finished jobs are not followed
    finally:
        await other.close()


async def test_two_replicas_asking_for_one_job_at_once_get_one_lease(store: Store, ledger: Ledger):
    replicas = [ledger] + [await store.open() for _ in range(3)]
    try:
        for round_ in range(5):
            await add(ledger, f"job{round_}")
            won: list[str] = []

            async def take(replica: Ledger, name: str, request_id: str, won: list[str] = won) -> None:
                if await replica.take_lease(request_id, name, 60.0):
                    won.append(name)

            async with anyio.create_task_group() as tg:
                for number, replica in enumerate(replicas):
                    tg.start_soon(take, replica, f"r{number}", f"job{round_}")
            assert len(won) == 1, won
    finally:
        for replica in replicas[1:]:
            await replica.close()


async def test_identical_calls_on_two_replicas_at_once_make_one_job(store: Store, ledger: Ledger):
    if store.kind == "sqlite":
        pytest.skip("SQLite's claims hold within one process; replicas share PostgreSQL")
    replicas = [ledger] + [await store.open() for _ in range(3)]
    made: dict[str, list[str]] = {}

    async def call(replica: Ledger, key: str, name: str) -> None:
        async with replica.claim(key):
            if await replica.duplicate_of(key, 0) is None:
                await add(replica, name, fingerprint=key)
                made.setdefault(key, []).append(name)

    try:
        async with anyio.create_task_group() as tg:
            for key in ("a", "b", "c", "d", "e"):
                for number, replica in enumerate(replicas):
                    tg.start_soon(call, replica, key, f"{key}{number}")
    finally:
        for replica in replicas[1:]:
            await replica.close()
    assert {key: len(names) for key, names in made.items()} == dict.fromkeys("abcde", 1)


async def test_a_budget_is_never_overrun_by_submits_racing_on_two_replicas(store: Store, ledger: Ledger):
    other = await store.open()
    refused: list[float] = []

    def within(limit: float, cost: float) -> Callable[[float, float], None]:
        def check(spent: float, own: float) -> None:
            if spent + cost > limit:
                refused.append(spent)
                raise RuntimeError("over budget")

        return check

    async def submit(replica: Ledger, number: int) -> None:
        with contextlib.suppress(RuntimeError):
            await replica.begin_submission(
                fingerprint=f"f{number}",
                provider="fal",
                endpoint=T2V,
                arguments={},
                cost=1.0,
                budget=(0.0, within(5.0, 1.0)),
                owner=("alice", "bob")[number % 3 % 2],
            )

    try:
        async with anyio.create_task_group() as tg:
            for number in range(12):
                tg.start_soon(submit, (ledger, other)[number % 2], number)
    finally:
        await other.close()
    assert len(await ledger.submissions("sending")) == 5  # in flight, each counted before its job exists
    assert len(refused) == 7 and set(refused) == {5.0}
    team, alices = await ledger.spent_since(0, "alice")
    assert team == 5.0 and team == alices + (await ledger.spent_since(0, "bob"))[1]


async def test_a_change_on_one_replica_wakes_listeners_on_another(store: Store, ledger: Ledger):
    if store.kind == "sqlite":
        pytest.skip("SQLite has no change feed; its waiters poll")
    other = await store.open()
    heard: list[tuple[str, bool]] = []
    listening = anyio.Event()
    finished = anyio.Event()

    def changed(request_id: str, finished_elsewhere: bool) -> None:
        if request_id == "job":
            heard.append((request_id, finished_elsewhere))
            if finished_elsewhere:
                finished.set()
        else:
            listening.set()

    try:
        await add(ledger, "job")
        await add(ledger, "probe")
        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                tg.start_soon(other.listen, changed)
                while not listening.is_set():  # until the feed is up: each probe is heard once it is
                    await ledger.update("probe", last_log="probe")
                    with anyio.move_on_after(0.5):
                        await listening.wait()
                await ledger.update("job", status="in_progress")
                await ledger.update("job", status="completed")
                await finished.wait()
                tg.cancel_scope.cancel()
    finally:
        await other.close()
    assert heard == [("job", False), ("job", True)]  # a change, then its end, made by another replica


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
