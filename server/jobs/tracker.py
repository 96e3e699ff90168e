"""The job tracker: submitting, following, waiting on and taking over jobs, and cancelling them.

Each idea has its module (`submitting`, `following`, `waiting`, `takeover`); this one adds cancelling,
which uses them all."""

from __future__ import annotations

import logging
import time

import anyio

from server.errors import SeedanceError
from server.jobs.submitting import Submitter
from server.jobs.waiting import find_job, ignore
from server.ledger import JobRecord

logger = logging.getLogger(__name__)

CANCEL_TIMEOUT_SECONDS = 15.0
STOPPING_SECONDS = 300.0  # a job its provider stops for certain ends well before; only a hang reaches this


class JobTracker(Submitter):
    async def cancel(self, request_id: str, settle_seconds: float = 5.0) -> tuple[JobRecord, str]:
        """Cancel on request (cancel_job), whatever the job's state; returns the job and what happened.

        A job its provider stops for certain is waited on until it has ended, however busy the machine. One
        a host was only asked to stop is given `settle_seconds` to say how it ends, since the host may
        finish it anyway; then the answer says it was asked and that get_job tells the rest."""
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
        bound = STOPPING_SECONDS if outcome == "stopping" else settle_seconds
        settled = await self.wait(request_id, bound, ignore, heartbeat=bound)
        if settled.status == "cancelled":
            return settled, "Cancelled while generating."
        billed = "it is free, as every preview is" if provider.preview else "a job that finishes is billed"
        return settled, (
            f"Cancel requested while it was generating. The provider may still finish it, and {billed}; get_job "
            "shows how it ends."
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
