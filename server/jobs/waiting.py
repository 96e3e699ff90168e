"""Waiting on a job: a caller reads the ledger on every change its watcher announces, for a bounded time."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import anyio
from opentelemetry import trace

from server.errors import JobNotFound, echo
from server.jobs.following import Follower
from server.jobs.replicas import gone
from server.ledger import JobRecord, Ledger
from server.trust.owners import current_person

tracer = trace.get_tracer(__name__)  # records nothing unless tracing is on (server.operations.traces)
POLL_SECONDS = 1.0  # a waiter re-reads the ledger at least this often, should no change be announced

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


class Waiter(Follower):
    _draining = False  # the replica is stopping: a waiting call answers at once, with its job still running

    def drain(self) -> None:
        """Have every call waiting on a job answer now, and every later one without waiting."""
        self._draining = True
        for changed in list(self._changed.values()):
            changed.set()

    async def wait(self, request_id: str, seconds: float, on_update: OnUpdate, heartbeat: float) -> JobRecord:
        """Report the job on every change and at least every `heartbeat` s, for at most `seconds`."""
        self.watch(await find_job(self._ledger, request_id))
        with tracer.start_as_current_span("seedance.job.wait", attributes={"seedance.job.id": request_id}) as span:
            record = await self._wait(request_id, seconds, on_update, heartbeat)
            span.set_attribute("seedance.job.status", record.status)
        return record

    async def _wait(self, request_id: str, seconds: float, on_update: OnUpdate, heartbeat: float) -> JobRecord:
        deadline = anyio.current_time() + seconds
        while True:
            changed = self._changed.setdefault(request_id, anyio.Event())  # taken before reading: no lost wake-up
            record = await self._ledger.require(request_id)
            followed = self._followed(record)  # read with the record: reporting below may take a while
            await on_update(record)
            remaining = deadline - anyio.current_time()
            if record.finished or remaining <= 0 or not followed or self._draining:
                return await self._ledger.require(request_id)
            with anyio.move_on_after(min(remaining, heartbeat, POLL_SECONDS)):
                await changed.wait()

    async def next_change(self, request_id: str, seen: float, seconds: float) -> JobRecord:
        """The job once its ledger row is newer than `seen` (an `updated_at`), or as it is after `seconds`.

        A long poll for the job card: it answers at once when the caller is behind, and otherwise on the
        next change, so a card that asks again right away still waits, even for a job nobody follows.
        """
        self.watch(await find_job(self._ledger, request_id))
        with anyio.move_on_after(seconds):
            while True:
                changed = self._changed.setdefault(request_id, anyio.Event())  # taken before reading
                if (await self._ledger.require(request_id)).updated_at > seen:
                    break
                with anyio.move_on_after(POLL_SECONDS):  # a change in another process may go unannounced
                    await changed.wait()
        return await self._ledger.require(request_id)

    def _followed(self, record: JobRecord) -> bool:
        """Someone follows the job: this replica, or another whose lease has not run out."""
        if record.request_id in self._watching:
            return True
        elsewhere = record.follower not in (None, self.replica) and (record.lease_until or 0) > time.time()
        return elsewhere and not gone(record.follower)  # a process check only when the lease says it lives
