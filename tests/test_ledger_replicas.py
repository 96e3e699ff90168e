"""The ledger as replicas share it, on both backends: leases, racing submits and budgets, change notices."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import anyio
import pytest

from server.ledger import Ledger
from tests.conftest import HANG_SECONDS
from tests.ledgers import T2V, Store, add

pytestmark = pytest.mark.anyio


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


async def test_a_replica_renews_all_its_leases_at_once_and_learns_which_it_lost(store: Store, ledger: Ledger):
    other = await store.open()
    try:
        for n in range(3):
            await add(ledger, f"job-{n}", lease=("a", 60.0))
        await other.take_lease("job-1", "b", 60.0, dead="a")  # b took one over
        assert await ledger.renew_leases(["job-0", "job-1", "job-2", "no-such-job"], "a", 120.0) == {"job-0", "job-2"}
        assert [(await ledger.require(f"job-{n}")).follower for n in range(3)] == ["a", "b", "a"]
        many = [f"job-{n}" for n in range(3)] * 400  # more than one statement's worth
        assert await ledger.renew_leases(many, "a", 120.0) == {"job-0", "job-2"}
    finally:
        await other.close()


async def test_one_query_says_when_each_of_many_jobs_last_changed(ledger: Ledger):
    for n in range(3):
        await add(ledger, f"job-{n}")
    before = await ledger.updated_at(["job-0", "job-1", "job-2", "no-such-job"])
    assert set(before) == {"job-0", "job-1", "job-2"}
    await ledger.update("job-1", status="in_progress")
    after = await ledger.updated_at(["job-0", "job-1", "job-2"] * 300)
    assert after["job-1"] > before["job-1"] and after["job-0"] == before["job-0"]


async def test_a_replica_knows_when_another_may_have_written(store: Store, ledger: Ledger):
    """What lets a process skip its shared re-read: on SQLite, only another connection's commit counts (this
    process announces its own changes); PostgreSQL cannot say, and is always re-read."""
    other = await store.open()
    try:
        await add(ledger, "job")
        await ledger.written_elsewhere()  # the baseline
        await ledger.update("job", last_log="written here")
        assert await ledger.written_elsewhere() is (store.kind == "postgres")
        await other.update("job", last_log="written elsewhere")
        assert await ledger.written_elsewhere() is True
        assert await ledger.written_elsewhere() is (store.kind == "postgres")
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
        pytest.skip("SQLite has no change feed; each process re-reads what its waiters wait on")
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
        with anyio.fail_after(HANG_SECONDS):
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
