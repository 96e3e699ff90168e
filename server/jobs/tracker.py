"""Following jobs: one background watcher per unfinished job, shared by every caller waiting on it.

A generation call, a later `get_job`, and a call after a restart all wait on the same watcher, so
however many times the model asks, fal sees one status stream and one result fetch per job. The
watcher writes each change to the ledger first and then wakes the waiters, who read the ledger: the
ledger stays the single source of truth.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from contextlib import aclosing
from dataclasses import asdict, dataclass
from typing import Any

import anyio
from anyio.abc import TaskGroup

from server.catalog import JobStatus, Mode, Model
from server.catalog.checks import endpoint as endpoint_of
from server.errors import (
    JobCancelled,
    JobFailed,
    JobNotFound,
    PossibleDuplicate,
    ProviderError,
    SeedanceError,
    SubmitUncertain,
    echo,
)
from server.jobs.ledger import Budget, JobRecord, Ledger
from server.jobs.owners import current_person
from server.media.saving import Kept
from server.money import pricing
from server.providers.base import Provider, StatusUpdate
from server.providers.base import Submission as ProviderSubmission
from server.providers.registry import Providers
from server.settings import DEFAULT_LEASE_SECONDS

logger = logging.getLogger(__name__)

FOLLOW_LIMIT_SECONDS = 3600.0  # a watcher gives up after an hour; get_job starts a new one
CANCEL_TIMEOUT_SECONDS = 15.0
SWEEP_SECONDS = 0.5  # how often each replica looks for jobs whose follower died: within the lease + 1 s
POLL_SECONDS = 1.0  # a waiter re-reads the ledger at least this often, should no change be announced

OnUpdate = Callable[[JobRecord], Awaitable[None]]
OnFinished = Callable[[JobRecord], Awaitable[None]]
Keep = Callable[[JobRecord, dict[str, Any]], Awaitable["Kept"]]


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


def _billed(record: JobRecord, result: Mapping[str, Any]) -> float | None:
    """A paid job's cost by what it made; jobs with reference videos keep their estimate, since the seconds
    of those videos, billed too, are not read here."""
    if record.preview or record.arguments.get("video_urls"):
        return None
    return pricing.billed(record.provider, record.model, record.arguments.get("resolution", "720p"), result)


def fingerprint(provider: str, endpoint: str, arguments: Mapping[str, Any], owner: str | None = None) -> str:
    """What makes two calls "identical": the same provider, endpoint and request body, from the same person
    (one person is not handed a job another started, which they could not see)."""
    parts: list[Any] = [provider, endpoint, dict(arguments)] + ([owner] if owner is not None else [])
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def replica_name() -> str:
    """Who follows a job, as the ledger records it: the machine, the process, and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def gone(follower: str | None) -> bool:
    """A follower on this machine whose process has ended: a server restarted after a crash need not wait
    out the lease of the process it replaces. Elsewhere, or alive, or unsure: False."""
    host, _, rest = (follower or "").partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # it exists, as another user's process
        return False
    return False


@dataclass(frozen=True)
class Submitted:
    record: JobRecord
    reused: bool = False  # an identical earlier call's job, returned instead of a new submit


class JobTracker:
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
    ) -> None:
        self._ledger = ledger
        self._providers = providers
        self._tg = task_group
        self._on_finished = on_finished
        self._follow_limit = follow_limit
        self._watching: set[str] = set()
        self._changed: dict[str, anyio.Event] = {}
        self._dedup_seconds = dedup_seconds
        self._keep = keep
        self._lease = lease_seconds
        self.replica = replica_name()

    async def run(self) -> None:
        """What every replica does while it serves: wake waiters on changes made anywhere, and take over
        the jobs of replicas that died."""
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._ledger.listen, self._changed_elsewhere)
            while True:
                for record in await self._ledger.orphans():
                    if self.watch(record):
                        logger.info(
                            "job %s: %s stopped following it; taking it over", record.request_id, record.follower
                        )
                await anyio.sleep(min(SWEEP_SECONDS, self._lease / 3))

    async def submit(
        self,
        mode: Mode,
        model: Model,
        arguments: Mapping[str, Any],
        estimate: tuple[float, float],
        *,
        force_new: bool = False,
        before_paying: Callable[[], Awaitable[None]] | None = None,
        budget: Budget | None = None,
        owner: str | None = None,
        draft_of: str | None = None,
    ) -> Submitted:
        """Submit unless an identical call already did; record the attempt before it leaves, the job on arrival.

        Assistants retry a call after their own timeout, so an identical call within the dedup window gets
        the earlier job back instead of paying for a second one. A lock per fingerprint makes two identical
        calls in flight at once wait for each other rather than both submit. `before_paying` (spending
        limits, then the user's approval) runs only when something is about to be submitted to a provider that
        charges, outside the lock, since a person may take minutes to answer; `budget` is checked again as the
        submit is recorded, in turn with every other replica.
        """
        provider = self._providers.for_new_jobs()
        endpoint = endpoint_of(provider.name, model, mode)
        key = fingerprint(provider.name, endpoint, arguments, owner)
        dedup = not force_new and self._dedup_seconds > 0
        paid = not provider.preview
        if before_paying is not None and paid:
            if dedup:
                async with self._ledger.claim(f"submit {key}"):  # waits out an identical submit in flight
                    earlier = await self._earlier(key)
                if earlier is not None:
                    return Submitted(earlier, reused=True)  # nothing to pay for, nothing to ask
            await before_paying()  # outside the claim: it may wait for a person's answer
        async with self._ledger.claim(f"submit {key}"):
            if dedup:
                earlier = await self._earlier(key)  # again: an identical call may have submitted meanwhile
                if earlier is not None:
                    return Submitted(earlier, reused=True)
            attempt = await self._ledger.begin_submission(
                fingerprint=key,
                provider=provider.name,
                endpoint=endpoint,
                arguments=arguments,
                cost=estimate[1] if paid else 0.0,
                budget=budget if paid else None,
                owner=owner,
            )
            try:
                submission = await provider.submit(mode, model, arguments)
            except SubmitUncertain as exc:
                await self._end_submission(attempt, "uncertain", str(exc))
                raise
            except ProviderError as exc:
                await self._end_submission(attempt, "refused", str(exc))
                raise
            except BaseException:
                await self._end_submission(attempt, "uncertain", "the call was cancelled while the submit was sent")
                raise
            with anyio.CancelScope(shield=True):  # the host has the job now: it reaches the ledger whatever happens
                record = await self._accepted(
                    provider, mode, model, arguments, estimate, submission, attempt, key, owner, draft_of
                )
            return Submitted(record)

    async def _end_submission(self, attempt: int, outcome: str, detail: str) -> None:
        with anyio.CancelScope(shield=True):  # also when the call itself was cancelled
            await self._ledger.end_submission(attempt, outcome, detail)

    def provider_for_new_jobs(self) -> Provider:
        return self._providers.for_new_jobs()

    async def _earlier(self, key: str) -> JobRecord | None:
        since = time.time() - self._dedup_seconds
        earlier = await self._ledger.duplicate_of(key, since)
        if earlier is not None:
            await self._ledger.record_event(earlier.request_id, "reused", "an identical call got this job back")
            logger.info("job %s returned again to an identical call", earlier.request_id)
            self.watch(earlier)
            return earlier
        unconfirmed = await self._ledger.unconfirmed_submission(key, since)
        if unconfirmed is not None:
            ago = time.time() - unconfirmed.started_at
            why = unconfirmed.detail or "the server stopped before the answer came back"
            raise PossibleDuplicate(
                f"An identical call {ago:.0f} s ago may already have started a job: {why} Nothing was submitted "
                "now. To submit anyway, call again with force_new=true."
            )
        return None

    async def _accepted(
        self,
        provider: Provider,
        mode: Mode,
        model: Model,
        arguments: Mapping[str, Any],
        estimate: tuple[float, float],
        submission: ProviderSubmission,
        attempt: int,
        key: str,
        owner: str | None,
        draft_of: str | None,
    ) -> JobRecord:
        record = await self._ledger.add(
            request_id=submission.request_id,
            provider=provider.name,
            endpoint=submission.endpoint,
            mode=mode,
            model=model,
            arguments=arguments,
            handle=submission.handle,
            estimate=estimate,
            queue_position=submission.queue_position,
            preview=provider.preview,
            submission=attempt,
            fingerprint=key,
            lease=(self.replica, self._lease),
            owner=owner,
            draft_of=draft_of,
        )
        by = f" for {owner}" if owner else ""
        logger.info("job %s submitted to %s %s%s", record.request_id, record.provider, record.endpoint, by)
        self.watch(record)
        return record

    def watch(self, record: JobRecord) -> bool:
        """Follow the job in the background unless it is finished or already followed; True if this starts it."""
        if record.finished or record.request_id in self._watching or record.provider not in self._providers.available:
            return False
        self._watching.add(record.request_id)
        self._tg.start_soon(self._follow, record.request_id, name=f"follow {record.request_id}")
        return True

    async def wait(self, request_id: str, seconds: float, on_update: OnUpdate, heartbeat: float) -> JobRecord:
        """Report the job on every change and at least every `heartbeat` s, for at most `seconds`."""
        self.watch(await find_job(self._ledger, request_id))
        deadline = anyio.current_time() + seconds
        while True:
            changed = self._changed.setdefault(request_id, anyio.Event())  # taken before reading: no lost wake-up
            record = await self._ledger.require(request_id)
            followed = self._followed(record)  # read with the record: reporting below may take a while
            await on_update(record)
            remaining = deadline - anyio.current_time()
            if record.finished or remaining <= 0 or not followed:
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

    def _changed_elsewhere(self, request_id: str, finished: bool) -> None:
        """A change announced through the ledger: wake this replica's waiters, and when another replica
        finished the job, tell this replica's subscribers too (as `on_finished` does where it finished)."""
        self._signal(request_id)
        if finished and self._on_finished is not None:
            self._tg.start_soon(self._finished_elsewhere, request_id)

    async def _finished_elsewhere(self, request_id: str) -> None:
        assert self._on_finished is not None
        await self._on_finished(await self._ledger.require(request_id))

    def _signal(self, request_id: str) -> None:
        event = self._changed.pop(request_id, None)
        if event is not None:
            event.set()

    async def _follow(self, request_id: str) -> None:
        record = await self._ledger.require(request_id)
        dead = record.follower if gone(record.follower) else None
        if not await self._ledger.take_lease(request_id, self.replica, self._lease, dead=dead):
            self._watching.discard(request_id)  # another replica follows it; its changes are announced
            self._signal(request_id)
            return
        provider = self._providers.available[record.provider]
        hand_over = False  # True when this replica stops: another takes the job over at once
        try:
            async with anyio.create_task_group() as following:
                following.start_soon(self._keep_lease, request_id, following.cancel_scope)
                with anyio.move_on_after(self._follow_limit) as scope:
                    async with aclosing(provider.follow(record.handle)) as updates:
                        async for update in updates:
                            if update.state == "completed":
                                await self._complete(request_id, update)
                                break
                            await self._apply(request_id, update)
                following.cancel_scope.cancel()
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
            self._watching.discard(request_id)
            with anyio.CancelScope(shield=True):
                await self._ledger.end_lease(request_id, self.replica, hand_over=hand_over)
            self._signal(request_id)

    async def _keep_lease(self, request_id: str, following: anyio.CancelScope) -> None:
        while True:
            await anyio.sleep(self._lease / 3)
            if not await self._ledger.renew_lease(request_id, self.replica, self._lease):
                logger.warning("job %s: another replica took it over; no longer following it here", request_id)
                following.cancel()
                return

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

    async def _complete(self, request_id: str, update: StatusUpdate) -> None:
        if not await self._ledger.renew_lease(request_id, self.replica, self._lease):
            # This replica stalled (paused, cut off) past its lease and another took the job over: that one
            # fetches the result, so the host is not asked twice and the job is not finished twice.
            logger.warning("job %s: another replica took it over while this one was stalled", request_id)
            return
        record = await self._ledger.require(request_id)
        if update.error:
            await self._finish(request_id, "failed", error=update.error)
        else:
            try:
                output = await self._providers.available[record.provider].result(record.handle)
            except JobCancelled as exc:
                await self._finish(request_id, "cancelled", detail=str(exc))
            except JobFailed as exc:  # anything else leaves the job unfinished, for get_job to fetch later
                await self._finish(request_id, "failed", error=str(exc))
            else:
                result = {k: v for k, v in asdict(output).items() if k != "raw"}
                if self._keep is not None:
                    kept = await self._keep(record, result)
                    result |= {"saved_path": kept.saved_path, "poster_path": kept.poster_path}
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

    async def cancel(self, request_id: str, settle_seconds: float = 5.0) -> tuple[JobRecord, str]:
        """Cancel on request (cancel_job), whatever the job's state; returns the job and what happened."""
        record = await find_job(self._ledger, request_id)
        if record.finished:
            return record, f"The job is already {record.status}; there is nothing to cancel."
        provider = self._providers.available.get(record.provider)
        if provider is None:
            return (
                record,
                f"The job ran on {record.provider}, which this server is not set up for; it cannot cancel it.",
            )
        with anyio.fail_after(CANCEL_TIMEOUT_SECONDS):
            outcome = await provider.cancel(record.handle)
        if outcome == "too_late":
            return await self._ledger.require(request_id), "Too late to cancel: the job had already finished."
        if outcome == "not_found":
            return record, f"{record.provider} no longer knows this job, so it could not be cancelled."
        if outcome == "refused":
            await self._ledger.record_event(request_id, "cancel_refused", "cancel_job while generating")
            return record, (
                f"{record.provider} does not stop a job that is already generating: it will finish, and be billed. "
                "get_job fetches the video."
            )
        if record.status == "queued":
            await self._finish(
                request_id, "cancelled", detail="cancelled with cancel_job before it started, nothing billed"
            )
            if self._on_finished is not None:
                await self._on_finished(await self._ledger.require(request_id))
            return await self._ledger.require(request_id), "Cancelled before it started: nothing is billed."
        await self._ledger.record_event(request_id, "cancel_requested", "cancel_job while generating")
        self.watch(record)
        settled = await self.wait(request_id, settle_seconds, ignore, heartbeat=settle_seconds)
        if settled.status == "cancelled":
            return settled, "Cancelled while generating."
        return settled, (
            "Cancel requested while it was generating. The provider may still finish it, and a job that "
            "finishes is billed; get_job shows how it ends."
        )

    async def caller_cancelled(self, request_id: str) -> None:
        """The tool call waiting on this job was cancelled: stop the job only if nothing is billed yet.

        Clients send the same cancel when a person presses stop and when their own timeout fires, so a
        job that is already generating keeps running and stays in the ledger for get_job.
        """
        record = await self._ledger.require(request_id)
        if record.finished:
            return
        if record.status != "queued":
            detail = "tool call cancelled while generating; the job keeps running (and is billed); use get_job"
            await self._ledger.record_event(request_id, "detached", detail)
            logger.info("job %s: %s", request_id, detail)
            return
        try:
            with anyio.fail_after(CANCEL_TIMEOUT_SECONDS):
                outcome = await self._providers.available[record.provider].cancel(record.handle)
        except (SeedanceError, TimeoutError) as exc:
            await self._ledger.record_event(request_id, "cancel_failed", str(exc) or "timed out")
            logger.warning("job %s: cancel at the provider failed: %s", request_id, exc)
            return
        if outcome == "cancelled":
            detail = "tool call cancelled while queued; cancelled at the provider before it started, nothing billed"
            await self._ledger.update(
                request_id,
                status="cancelled",
                queue_position=None,
                finished_at=time.time(),
                event=("cancelled", detail),
            )
            self._signal(request_id)
            if self._on_finished is not None:
                await self._on_finished(await self._ledger.require(request_id))
        else:
            detail = f"tool call cancelled while queued, but the provider answered {outcome}; still following it"
            await self._ledger.record_event(request_id, "cancel_refused", detail)
        logger.info("job %s: %s", request_id, detail)
