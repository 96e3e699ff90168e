"""Whose preview renders next: people take turns, each person's renders in the order they asked.

Renders are CPU-bound and run one at a time, so a plain queue would let one person who asks for 300 hold
everyone else up for hours. Here each person with renders waiting has a place in a ring; a free slot goes to
the next person in the ring, for their oldest render, and they go to the back.
"""

from __future__ import annotations

from collections import deque

import anyio


class Turns:
    def __init__(self, slots: int) -> None:
        self._free = slots
        self._running: set[str] = set()
        self._queues: dict[str, deque[str]] = {}  # who -> their waiting renders, oldest first
        self._ring: deque[str] = deque()  # who has renders waiting, next first
        self._owner: dict[str, str] = {}  # render -> who asked for it
        self._called: dict[str, anyio.Event] = {}

    def join(self, who: str, name: str) -> None:
        """Queue render `name` for `who`; it may start at once."""
        self._queues.setdefault(who, deque()).append(name)
        if who not in self._ring:
            self._ring.append(who)
        self._owner[name] = who
        self._called[name] = anyio.Event()
        self._dispatch()

    async def take(self, name: str) -> bool:
        """Wait for the render's turn; False when it left the queue first (cancelled) and must not run."""
        called = self._called.get(name)
        if called is not None:
            await called.wait()
        return name in self._running

    def leave(self, name: str) -> None:
        """The render ended, or will never run: its slot, or its place in the queue, goes to the next."""
        if name in self._running:
            self._running.remove(name)
            self._free += 1
        elif (who := self._owner.get(name)) is not None and name in self._queues.get(who, ()):
            self._queues[who].remove(name)
            if not self._queues[who]:
                del self._queues[who]
                self._ring.remove(who)
        self._owner.pop(name, None)
        if (called := self._called.pop(name, None)) is not None:
            called.set()  # a taker still waiting wakes, and finds it has no slot
        self._dispatch()

    def waiting(self, name: str) -> bool:
        who = self._owner.get(name)
        return who is not None and name in self._queues.get(who, ())

    def position(self, name: str) -> int | None:
        """How many renders start before this one, as the turns stand now; None once it runs."""
        if not self.waiting(name):
            return None
        queues = {who: list(queue) for who, queue in self._queues.items()}
        ring, ahead = deque(self._ring), 0
        while ring:
            who = ring.popleft()
            if queues[who].pop(0) == name:
                return ahead
            ahead += 1
            if queues[who]:
                ring.append(who)
        return None  # not reached: `name` is in one of the queues

    def _dispatch(self) -> None:
        while self._free > 0 and self._ring:
            who = self._ring.popleft()
            name = self._queues[who].popleft()
            if self._queues[who]:
                self._ring.append(who)
            else:
                del self._queues[who]
            self._running.add(name)
            self._free -= 1
            self._called.pop(name).set()
