"""Taking jobs over: every replica hears of changes made elsewhere, and follows the jobs of replicas that died."""

from __future__ import annotations

import logging
import time

import anyio
from anyio.abc import TaskGroup

from server.jobs.waiting import POLL_SECONDS, Waiter

logger = logging.getLogger(__name__)

SWEEP_SECONDS = 0.5  # how often each replica looks for jobs whose follower died: within the lease + 1 s


class Replica(Waiter):
    async def run(self) -> None:
        """What every replica does while it serves: wake waiters on changes made anywhere, keep the leases
        of the jobs it follows, and take over the jobs of replicas that died."""
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._ledger.listen, self._changed_elsewhere)
            tg.start_soon(self._keep_rereading)
            tg.start_soon(self.keep_leases)
            while True:
                try:
                    await self._sweep(tg)
                except Exception as exc:  # the database is away: its kind only (its text may hold the URL)
                    logger.warning("could not look for jobs to take over: %s; looking again", type(exc).__name__)
                await anyio.sleep(min(SWEEP_SECONDS, self._lease / 3))

    async def _sweep(self, tg: TaskGroup) -> None:
        """Follow the jobs of replicas that died, and ask about those whose webhook is overdue."""
        for record in await self._ledger.orphans():
            if self.watch(record):
                logger.info("job %s: %s stopped following it; taking it over", record.request_id, record.follower)
        if self._callbacks is not None:
            for record in await self._ledger.overdue(time.time()):
                tg.start_soon(self.ask_host, record)

    async def _keep_rereading(self) -> None:
        """The safety net under the ledger's notices: every waited job re-read once a second, in one query."""
        while True:
            await anyio.sleep(POLL_SECONDS)
            try:
                await self.reread()
            except Exception as exc:  # the database is away: the waiters' heartbeats still answer, by their bound
                logger.warning("could not re-read the jobs being waited on: %s", type(exc).__name__)

    def _changed_elsewhere(self, request_id: str, finished: bool) -> None:
        """A change announced through the ledger: wake this replica's waiters, and when another replica
        finished the job, tell this replica's subscribers too (as `on_finished` does where it finished)."""
        self._signal(request_id)
        if finished and self._on_finished is not None:
            self._tg.start_soon(self._finished_elsewhere, request_id)

    async def _finished_elsewhere(self, request_id: str) -> None:
        assert self._on_finished is not None
        await self._on_finished(await self._ledger.require(request_id))
