"""Submitting a job once: identical calls share one job, and the attempt is in the ledger before it leaves."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import anyio

from server import metrics
from server.catalog import Mode, Model
from server.catalog.checks import endpoint as endpoint_of
from server.errors import PossibleDuplicate, ProviderError, SubmitUncertain
from server.jobs.takeover import Replica
from server.ledger import Budget, InFlightCap, JobRecord
from server.providers.base import Provider
from server.providers.base import Submission as ProviderSubmission

logger = logging.getLogger(__name__)


def fingerprint(provider: str, endpoint: str, arguments: Mapping[str, Any], owner: str | None = None) -> str:
    """What makes two calls "identical": the same provider, endpoint and request body, from the same person
    (one person is not handed a job another started, which they could not see)."""
    parts: list[Any] = [provider, endpoint, dict(arguments)] + ([owner] if owner is not None else [])
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Submitted:
    record: JobRecord
    reused: bool = False  # an identical earlier call's job, returned instead of a new submit


class Submitter(Replica):
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
        in_flight_cap: InFlightCap | None = None,
        owner: str | None = None,
        draft_of: str | None = None,
    ) -> Submitted:
        """Submit unless an identical call already did; record the attempt before it leaves, the job on arrival.

        Assistants retry a call after their own timeout, so an identical call within the dedup window gets
        the earlier job back instead of paying for a second one. A lock per fingerprint makes two identical
        calls in flight at once wait for each other rather than both submit. `before_paying` (spending
        limits, then the user's approval) runs only when something is about to be submitted to a provider that
        charges, outside the lock, since a person may take minutes to answer; `budget` is checked again as the
        submit is recorded, in turn with every other replica, as is `in_flight_cap`.
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
                in_flight_cap=in_flight_cap if paid else None,
            )
            callback = self.callback_for(provider)  # webhooks on, and a host that calls back: where, and its record
            try:
                submission = await provider.submit(mode, model, arguments, callback[0] if callback else None)
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
                    provider, mode, model, arguments, estimate, submission, attempt, key, owner, draft_of, callback
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
        callback: tuple[str, tuple[str, float]] | None,
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
            lease=(self.replica, self._lease) if callback is None else None,  # a job that calls back: nobody yet
            owner=owner,
            draft_of=draft_of,
            hook=callback[1] if callback else None,
        )
        metrics.meter.job_submitted(provider.name, model, 0.0 if provider.preview else estimate[1])
        by = f" for {owner}" if owner else ""
        logger.info("job %s submitted to %s %s%s", record.request_id, record.provider, record.endpoint, by)
        self.watch(record)
        return record
