"""Hearing from the hosts: a webhook, once proven the host's, ends a job through the path a status change takes.

With webhooks on (`SEEDANCE_PUBLIC_URL`, over HTTP), a new job asks its host to call back at a path of its own,
and holds no status stream while nobody waits on it (see `Follower.watch`). Its webhook ends it here: the
provider proves the delivery (`Provider.heard`), and the job is completed under its lease, as a follower
completes it, so that waiting calls, tasks, the card, subscribers and other replicas hear of it as they do
of any end. A repeat, late or out-of-order delivery finds the job finished and changes nothing. Should no
webhook have come by the job's `hook_due`, `ask_host` asks the host once, and again a fallback later while it
runs: a lost webhook never strands a job.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import aclosing, asynccontextmanager
from typing import Any

import anyio

from server.errors import SeedanceError
from server.jobs.following import Follower
from server.ledger import JobRecord
from server.providers.base import Output, Provider, StatusUpdate
from server.webhooks import Refused, hook_digest

logger = logging.getLogger(__name__)


class Hearing(Follower):
    _ending: set[str]  # jobs a webhook said have ended, being ended here

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._ending = set()

    def callback_for(self, provider: Provider) -> tuple[str, tuple[str, float]] | None:
        """A new job's webhook URL, and what the ledger keeps of it (the token's digest, and when the host is
        asked should no webhook have come); None when webhooks are off or the host does not call back."""
        if self._callbacks is None or not provider.calls_back:
            return None
        token = secrets.token_urlsafe(32)
        return f"{self._callbacks}/hooks/{token}", (hook_digest(token), time.time() + self._fallback)

    async def hear(self, record: JobRecord, headers: Mapping[str, str], body: bytes) -> str:
        """A delivery to the job's webhook: proven by its provider (which raises `Refused` otherwise), then
        applied. Returns what became of it, one of `metrics.WEBHOOK_OUTCOMES`."""
        provider = self._providers.available.get(record.provider)
        if provider is None:
            raise Refused(f"this server is not set up for {record.provider}, which ran the job")
        heard = await provider.heard(record.request_id, record.handle, headers, body)
        return await self._settle(record.request_id, heard.update, heard.output)

    async def _settle(self, request_id: str, update: StatusUpdate | None, output: Output | None) -> str:
        if update is None:
            return "ignored"
        if (await self._ledger.require(request_id)).finished:
            return "repeat"
        if update.state != "completed":  # progress is for those watching, who follow the job live
            return "ignored"
        if request_id in self._completing or request_id in self._ending:
            return "followed"
        self._ending.add(request_id)  # from here, a repeat finds it being ended
        try:
            following = self._leases.get(request_id)  # followed here, live: it stops once the job is ended
            if following is None and not await self._ledger.take_lease(request_id, self.replica, self._lease):
                self._ending.discard(request_id)
                return "followed"  # another replica follows it live, and sees its end itself
            self._tg.start_soon(self._end_heard, request_id, update, output, following, name=f"end {request_id}")
        except BaseException:
            self._ending.discard(request_id)
            raise
        return "applied"

    async def _end_heard(
        self, request_id: str, update: StatusUpdate, output: Output | None, following: anyio.CancelScope | None
    ) -> None:
        """End a job its webhook says has ended, once the answer has gone back: keeping its video may take
        longer than a host waits for that answer (fal, 15 s), and a host that hears none delivers again."""
        try:
            if following is None:
                async with self._holding(request_id):
                    await self._complete(request_id, update, output)
            else:
                await self._complete(request_id, update, output)  # unless its live follower here is ending it
        finally:
            self._ending.discard(request_id)
            if following is not None and request_id not in self._completing:  # not ending it itself: it stops
                following.cancel()

    @asynccontextmanager
    async def _holding(self, request_id: str) -> AsyncIterator[None]:
        """The job's lease, taken already, renewed with this replica's others while the block runs (keeping a
        video may outlast a lease), then let go: nobody follows the job until someone watches it again."""
        self._leases[request_id] = anyio.CancelScope()
        try:
            yield
        finally:
            self._leases.pop(request_id, None)
            with anyio.CancelScope(shield=True):
                await self._ledger.end_lease(request_id, self.replica, hand_over=False)
            self._signal(request_id)

    async def ask_host(self, record: JobRecord) -> None:
        """The job's webhook has not come by its time: read its status once (fal: the stream's first event),
        end it if it has ended, and otherwise ask again a fallback later."""
        request_id = record.request_id
        provider = self._providers.available.get(record.provider)
        if provider is None or request_id in self._watching:
            return
        self._watching.add(request_id)
        try:
            if not await self._ledger.take_lease(request_id, self.replica, self._lease):
                return
            async with self._holding(request_id):
                logger.info("job %s: no webhook by its time; asking %s", request_id, record.provider)
                try:
                    async with aclosing(provider.follow(record.handle)) as updates:
                        update = await anext(updates)
                except (SeedanceError, StopAsyncIteration) as exc:
                    logger.warning(
                        "job %s: asking %s failed (%s); asking again later", request_id, record.provider, exc
                    )
                    update = None
                if update is not None and update.state == "completed":
                    await self._complete(request_id, update)
                else:
                    if update is not None:
                        await self._apply(request_id, update)
                    await self._ledger.postpone_hook(request_id, time.time() + self._fallback)
        finally:
            self._watching.discard(request_id)
