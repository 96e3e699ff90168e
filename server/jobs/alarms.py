"""One clock for every waiting call in a process: a wait ends on its job's next change, or when the clock rings
it at its next heartbeat or its deadline.

A cancel scope with a deadline per waiting call costs about 100 µs of CPU each time it fires (its timer, then
the delivery of the cancellation), and 200 calls that each beat every 5 s made that most of what a waiting
server spends. One clock ringing every wake that is due, on ticks `TICK_SECONDS` apart, costs about a tenth.
"""

from __future__ import annotations

import heapq
import itertools

import anyio
from anyio.abc import TaskGroup

TICK_SECONDS = 0.1  # how late a heartbeat or a wait's deadline may ring


class Wake:
    """What one waiting call waits on: set by a change of its job (`changed` then says so), or by the clock."""

    __slots__ = ("_event", "changed")

    def __init__(self) -> None:
        self._event = anyio.Event()
        self.changed = False

    def change(self) -> None:
        self.changed = True
        self._event.set()

    def ring(self) -> None:
        self._event.set()

    async def wait(self) -> None:
        await self._event.wait()


class Clock:
    """Rings each wake at its time, within a tick; it ticks only while a wake is due."""

    def __init__(self, task_group: TaskGroup) -> None:
        self._tg = task_group
        self._due: list[tuple[float, int, Wake]] = []  # a heap, by time, then by order of asking
        self._order = itertools.count()
        self._ticking = False

    def ring_at(self, when: float, wake: Wake) -> None:
        """Ring `wake` once `anyio.current_time()` reaches `when`, unless something else sets it first."""
        heapq.heappush(self._due, (when, next(self._order), wake))
        if not self._ticking:
            self._ticking = True
            self._tg.start_soon(self._tick, name="the waiting calls' clock")

    async def _tick(self) -> None:
        try:
            while self._due:
                await anyio.sleep(TICK_SECONDS)
                now = anyio.current_time()
                while self._due and self._due[0][0] <= now:
                    heapq.heappop(self._due)[2].ring()
        finally:
            self._ticking = False
