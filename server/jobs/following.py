"""Following jobs: one background watcher per unfinished job, shared by every caller waiting on it.

A generation call, a later `get_job`, and a call after a restart all wait on the same watcher, so
however many times the model asks, the host sees one status stream and one result fetch per job. The
watcher writes each change to the ledger first and then wakes the waiters, who read the ledger: the
ledger stays the single source of truth.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from contextlib import aclosing
from dataclasses import asdict
from typing import Any

import anyio
from anyio.abc import TaskGroup

from server import metrics
from server.catalog import JobStatus
from server.errors import JobCancelled, JobFailed, SeedanceError
from server.jobs.alarms import Wake
from server.jobs.replicas import gone, replica_name
from server.ledger import JobRecord, Ledger
from server.media.saving import Kept
from server.money import pricing
from server.providers.base import Output, StatusUpdate
from server.providers.registry import Providers
from server.settings import DEFAULT_LEASE_SECONDS, DEFAULT_WEBHOOK_FALLBACK_SECONDS

logger = logging.getLogger(__name__)

FOLLOW_LIMIT_SECONDS = 3600.0  # a watcher gives up after an hour; get_job starts a new one

OnFinished = Callable[[JobRecord], Awaitable[None]]
Keep = Callable[[JobRecord, dict[str, Any]], Awaitable["Kept"]]


def _billed(record: JobRecord, result: Mapping[str, Any]) -> float | None:
    """A paid job's cost by what it made; jobs with reference videos keep their estimate, since the seconds
    of those videos, billed too, are not read here."""
    if record.preview or record.arguments.get("video_urls"):
        return None
    return pricing.billed(record.provider, record.model, record.arguments.get("resolution", "720p"), result)


class Follower:
    """Starts and runs the watchers; the ledger hears every change first."""

    def __init__(
        self,
        ledger: Ledger,
        providers: Providers,
        task_group: TaskGroup,
        *,
        on_finished: OnFinished | None = None,
        follow_limit: float = FOLLOW_LIMIT_SECONDS,
        dedup_seconds: float = 0.0,
        keep: Keep | None = None,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        callbacks: str | None = None,
        fallback_seconds: float = DEFAULT_WEBHOOK_FALLBACK_SECONDS,
    ) -> None:
        self._ledger = ledger
        self._providers = providers
        self._tg = task_group
        self._on_finished = on_finished
        self._follow_limit = follow_limit
        self._watching: set[str] = set()
        self._changed: dict[str, set[Wake]] = {}  # jobs someone waits on: what to wake on their next change
        self._seen: dict[str, float] = {}  # of those, the oldest updated_at a waiter has read (see Waiter)
        self._leases: dict[str, anyio.CancelScope] = {}  # jobs this replica follows, by what stops following
        self._dedup_seconds = dedup_seconds
        self._keep = keep
        self._lease = lease_seconds
        self._callbacks = callbacks  # the public base URL the hosts call back at; None: webhooks are off
        self._fallback = fallback_seconds
        self._for_watchers: set[str] = set()  # jobs whose host calls back, followed here only while watched
        self._completing: set[str] = set()
        self.replica = replica_name()

    def watch(self, record: JobRecord) -> bool:
        """Follow the job in the background unless it is finished or already followed; True if this starts it.

        A job whose host calls back is followed only while someone here waits on it, for its live progress:
        its end comes by webhook (see `Hearing`), so a job nobody watches costs nothing until then."""
        if record.finished or record.request_id in self._watching or record.provider not in self._providers.available:
            return False
        if record.hook is not None and not self._watched(record.request_id):
            return False
        self._watching.add(record.request_id)
        self._tg.start_soon(self._follow, record.request_id, name=f"follow {record.request_id}")
        return True

    def _watched(self, request_id: str) -> bool:
        """Whether a call, a task or the card waits on the job here (see `Waiter`)."""
        return True

    def _unwatched(self, request_id: str) -> None:
        """The last here to wait on the job has gone: a job whose host calls back is no longer followed."""
        following = self._leases.get(request_id)
        if request_id in self._for_watchers and request_id not in self._completing and following is not None:
            following.cancel()

    def _signal(self, request_id: str) -> None:
        self._seen.pop(request_id, None)
        for wake in self._changed.pop(request_id, ()):
            wake.change()

    async def _follow(self, request_id: str) -> None:
        record = await self._ledger.require(request_id)
        if record.hook is not None and not self._watched(request_id):  # its watchers left before it began
            self._watching.discard(request_id)
            return
        dead = record.follower if gone(record.follower) else None
        if not await self._ledger.take_lease(request_id, self.replica, self._lease, dead=dead):
            self._watching.discard(request_id)  # another replica follows it; its changes are announced
            self._signal(request_id)
            return
        provider = self._providers.available[record.provider]
        hand_over = False  # True when this replica stops: another takes the job over at once
        metrics.meter.following(1)
        if record.hook is not None:
            self._for_watchers.add(request_id)
        try:
            with anyio.CancelScope() as following:  # cancelled when another replica takes the job over
                self._leases[request_id] = following
                with anyio.move_on_after(self._follow_limit) as scope:
                    async with aclosing(provider.follow(record.handle)) as updates:
                        async for update in updates:
                            if update.state == "completed":
                                await self._complete(request_id, update)
                                break
                            await self._apply(request_id, update)
            if scope.cancelled_caught:
                await self._ledger.record_event(
                    request_id, "follow_paused", f"not finished after {self._follow_limit:.0f} s"
                )
        except anyio.get_cancelled_exc_class():
            hand_over = True
            raise
        except SeedanceError as exc:
            logger.warning("job %s: lost track at the provider: %s", request_id, exc)
            await self._ledger.update(request_id, error=str(exc), event=("follow_failed", str(exc)))
        except Exception:
            logger.exception("job %s: watcher crashed", request_id)
            await self._ledger.update(
                request_id, error="internal error while following the job", event=("follow_failed", None)
            )
        finally:
            self._leases.pop(request_id, None)
            self._for_watchers.discard(request_id)
            metrics.meter.following(-1)
            self._watching.discard(request_id)
            with anyio.CancelScope(shield=True):
                await self._ledger.end_lease(request_id, self.replica, hand_over=hand_over)
            self._signal(request_id)

    async def keep_leases(self) -> None:
        """Renew the lease of every job this replica follows, all in one statement, a third of a lease apart:
        a replica that stops, or stalls, loses its jobs to another once their leases run out."""
        while True:
            await anyio.sleep(self._lease / 3)
            held = list(self._leases)
            if not held:
                continue
            try:
                renewed = await self._ledger.renew_leases(held, self.replica, self._lease)
            except Exception as exc:  # the database ended the session (this replica stalled in it), or is away
                # Not an answer about the leases: ask again on a fresh connection, which says whether they are lost.
                logger.warning("could not renew this replica's leases (%s); trying again", type(exc).__name__)
                continue
            for request_id in held:
                if request_id not in renewed and (lost := self._leases.get(request_id)) is not None:
                    logger.warning("job %s: another replica took it over; no longer following it here", request_id)
                    lost.cancel()

    async def _apply(self, request_id: str, update: StatusUpdate) -> None:
        record = await self._ledger.require(request_id)
        fields: dict[str, Any] = {}
        event: tuple[str, str | None] | None = None
        if record.status != update.state and not record.finished:
            fields["status"] = update.state
            if update.state == "in_progress" and record.started_at is None:
                fields["started_at"] = time.time()
                event = ("started", None)
        if update.queue_position != record.queue_position:
            fields["queue_position"] = update.queue_position
        if update.logs and update.logs[-1] != record.last_log:
            fields["last_log"] = update.logs[-1]
        if update.fraction is not None and update.fraction != record.progress:
            fields["progress"] = update.fraction
        if fields:
            if record.error:
                fields["error"] = None
            await self._ledger.update(request_id, event=event, **fields)
            self._signal(request_id)

    async def _complete(self, request_id: str, update: StatusUpdate, output: Output | None = None) -> None:
        """End the job: fetch its result (unless a webhook brought `output`), keep the video, record it."""
        if not await self._ledger.renew_lease(request_id, self.replica, self._lease):
            # This replica stalled (paused, cut off) past its lease and another took the job over: that one
            # fetches the result, so the host is not asked twice and the job is not finished twice.
            logger.warning("job %s: another replica took it over while this one was stalled", request_id)
            return
        record = await self._ledger.require(request_id)
        if record.finished or request_id in self._completing:  # its webhook came first, or is being applied
            return
        self._completing.add(request_id)
        try:
            await self._completed(record, update, output)
        finally:
            self._completing.discard(request_id)

    async def _completed(self, record: JobRecord, update: StatusUpdate, output: Output | None) -> None:
        request_id = record.request_id
        if update.error:
            await self._finish(request_id, "failed", error=update.error)
        else:
            try:
                if output is None:
                    output = await self._providers.available[record.provider].result(record.handle)
            except JobCancelled as exc:
                await self._finish(request_id, "cancelled", detail=str(exc))
            except JobFailed as exc:  # anything else leaves the job unfinished, for get_job to fetch later
                await self._finish(request_id, "failed", error=str(exc))
            else:
                result = {k: v for k, v in asdict(output).items() if k != "raw"}
                if self._keep is not None:
                    kept = await self._keep(record, result)
                    result |= kept.stored
                    result |= kept.facts  # what the file is, over what the host said of it
                    if kept.problem:
                        await self._ledger.record_event(request_id, "not_saved", kept.problem)
                await self._finish(request_id, "completed", result=result, error=None, cost_usd=_billed(record, result))
        if self._on_finished is not None:
            await self._on_finished(await self._ledger.require(request_id))

    async def _finish(self, request_id: str, status: JobStatus, *, detail: str | None = None, **fields: Any) -> None:
        """Record the end of a job, read afresh: a caller may have recorded its cancel meanwhile."""
        record = await self._ledger.require(request_id)
        if record.status == "cancelled" and status != "completed":
            await self._ledger.record_event(request_id, "cancel_confirmed", detail or fields.get("error"))
            return
        if record.status == "cancelled":
            detail = "completed although its cancel had been accepted"
        await self._ledger.update(
            request_id, status=status, queue_position=None, finished_at=time.time(), event=(status, detail), **fields
        )
        logger.info("job %s %s", request_id, status)
        self._signal(request_id)
