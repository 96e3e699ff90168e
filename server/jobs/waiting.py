"""Waiting on a job: a caller reads the ledger on every change its watcher announces, for a bounded time.

A change this process makes is announced to its waiters at once, and one another replica makes comes through
the ledger's notices (PostgreSQL). Should a notice be lost, or where there are none (SQLite shared by several
processes, when another has written), the process re-reads every waited job in one query a second (`reread`,
run by `Replica.run`): one read for all its waiting calls, not one each. Between changes, each call is woken
only by the process's one clock (see `alarms`), for its heartbeat or its deadline.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import anyio
from opentelemetry import trace

from server.errors import JobNotFound, echo
from server.jobs.alarms import Clock, Wake
from server.jobs.hearing import Hearing
from server.jobs.replicas import gone
from server.ledger import JobRecord, Ledger
from server.trust.owners import current_person

tracer = trace.get_tracer(__name__)  # records nothing unless tracing is on (server.operations.traces)
POLL_SECONDS = 1.0  # how often the process re-reads the jobs it waits on, should no change be announced

OnUpdate = Callable[[JobRecord], Awaitable[None]]


async def ignore(record: JobRecord) -> None:
    """An `OnUpdate` for a wait that reports to nobody."""
    return None


async def find_job(ledger: Ledger, request_id: str) -> JobRecord:
    """The job, if the person asking may see it; someone else's job is as good as missing."""
    record = await ledger.get(request_id)
    if record is None or not current_person().may_see(record):
        raise JobNotFound(
            f"No job with request_id {echo(request_id)!r} is in this server's ledger. Use the request_id that "
            "generate_text_video, animate_image or reference_video returned; the resource seedance://jobs "
            "lists recent jobs."
        )
    return record


class Waiter(Hearing):
    _draining = False  # the replica is stopping: a waiting call answers at once, with its job still running

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._waiters: Counter[str] = Counter()
        self._clock = Clock(self._tg)

    def drain(self) -> None:
        """Have every call waiting on a job answer now, and every later one without waiting."""
        self._draining = True
        for wakes in list(self._changed.values()):
            for wake in list(wakes):
                wake.ring()

    async def wait(self, request_id: str, seconds: float, on_update: OnUpdate, heartbeat: float) -> JobRecord:
        """Report the job on every change and at least every `heartbeat` s, for at most `seconds`."""
        found = await find_job(self._ledger, request_id)
        with (
            tracer.start_as_current_span("seedance.job.wait", attributes={"seedance.job.id": request_id}) as span,
            self._waiting_on(request_id),
        ):
            if seconds > 0 or found.hook is None:  # a look without waiting follows nothing its host calls back on
                self.watch(found)
            record = await self._wait(request_id, seconds, on_update, heartbeat)
            span.set_attribute("seedance.job.status", record.status)
        return record

    async def _wait(self, request_id: str, seconds: float, on_update: OnUpdate, heartbeat: float) -> JobRecord:
        deadline = anyio.current_time() + seconds
        record: JobRecord | None = None
        wake = Wake()
        while True:
            fired = wake.changed  # the job changed while this call waited (see `_signal`)
            wake = self._on_change(request_id)  # taken before reading: no lost wake-up
            if record is None or fired or request_id not in self._seen:
                record = await self._ledger.require(request_id)  # a heartbeat with no change reads nothing
                self._read(record)
            followed = self._followed(record)  # taken now: reporting below may take a while
            await on_update(record)
            now = anyio.current_time()
            if record.finished or now >= deadline or not followed or self._draining:
                return await self._ledger.require(request_id)
            self._clock.ring_at(min(deadline, now + heartbeat), wake)
            await self._woken(request_id, wake)

    async def next_change(self, request_id: str, seen: float, seconds: float) -> JobRecord:
        """The job once its ledger row is newer than `seen` (an `updated_at`), or as it is after `seconds`.

        A long poll for the job card: it answers at once when the caller is behind, and otherwise on the
        next change, so a card that asks again right away still waits, even for a job nobody follows.
        """
        found = await find_job(self._ledger, request_id)
        with anyio.move_on_after(seconds), self._waiting_on(request_id):
            self.watch(found)
            while True:
                wake = self._on_change(request_id)  # taken before reading
                record = await self._ledger.require(request_id)
                if record.updated_at > seen:
                    break
                self._read(record)
                await self._woken(request_id, wake)
        return await self._ledger.require(request_id)

    def _on_change(self, request_id: str) -> Wake:
        """A wake that the job's next change sets (see `_signal`)."""
        wake = Wake()
        self._changed.setdefault(request_id, set()).add(wake)
        return wake

    async def _woken(self, request_id: str, wake: Wake) -> None:
        """Wait for `wake`; rung by the clock or cancelled, it is no longer one of the job's."""
        try:
            await wake.wait()
        finally:
            if (wakes := self._changed.get(request_id)) is not None:
                wakes.discard(wake)

    @contextmanager
    def _waiting_on(self, request_id: str) -> Iterator[None]:
        """Count the calls waiting on a job; when the last has gone, nothing is kept for it, nor re-read."""
        self._waiters[request_id] += 1
        try:
            yield
        finally:
            self._waiters[request_id] -= 1
            if not self._waiters[request_id]:
                del self._waiters[request_id]
                self._seen.pop(request_id, None)
                self._changed.pop(request_id, None)
                self._unwatched(request_id)

    def _watched(self, request_id: str) -> bool:
        return bool(self._waiters.get(request_id))

    def _read(self, record: JobRecord) -> None:
        """Note what a waiter has read, so that the shared re-read wakes it when the job is newer."""
        seen = self._seen.get(record.request_id, record.updated_at)
        self._seen[record.request_id] = min(seen, record.updated_at)

    async def reread(self) -> None:
        """Wake the waiters of every job changed since they read it, with one query for all of them: only when
        another process may have changed one, since this one wakes them as it makes each change."""
        if not self._seen or not await self._ledger.written_elsewhere():
            return
        for request_id, updated_at in (await self._ledger.updated_at(list(self._seen))).items():
            if updated_at > self._seen.get(request_id, updated_at):
                self._signal(request_id)

    def _followed(self, record: JobRecord) -> bool:
        """Someone follows the job: this replica, or another whose lease has not run out."""
        if record.request_id in self._watching or record.hook is not None:  # its host will call back
            return True
        elsewhere = record.follower not in (None, self.replica) and (record.lease_until or 0) > time.time()
        return elsewhere and not gone(record.follower)  # a process check only when the lease says it lives
