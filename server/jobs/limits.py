"""A person's share of a team server: how many paid jobs they may have in flight, how many calls a minute.

The counts live in the ledger (`server/ledger/quotas.py`), so that the limits hold across replicas. Each
refusal says which limit, what it is, and when the same call will be taken; it costs nothing.
"""

from __future__ import annotations

from server.errors import LimitReached
from server.ledger import InFlightCap, Ledger
from server.settings import Settings


def in_flight_cap(settings: Settings) -> InFlightCap | None:
    """SEEDANCE_USER_MAX_JOBS_IN_FLIGHT as the ledger checks it when a paid submit is recorded."""
    cap = settings.jobs_in_flight_cap
    if cap is None:
        return None

    def refuse(count: int) -> None:
        raise LimitReached(
            "concurrency",
            f"Refused: you already have {count} paid jobs in flight, and this server lets one person have at most "
            f"{cap} at once (SEEDANCE_USER_MAX_JOBS_IN_FLIGHT). Nothing was submitted or charged. Retry this same "
            "call when one of them has finished: get_job with its request_id waits for it, and list_jobs shows "
            "them.",
        )

    return cap, refuse


async def check_in_flight(settings: Settings, ledger: Ledger, owner: str | None) -> None:
    """Refuse at once a paid job over the cap, before anyone is asked its price; the submit checks again."""
    if (cap := in_flight_cap(settings)) is not None and (count := await ledger.jobs_in_flight(owner)) >= cap[0]:
        cap[1](count)


def minute_end(now: float) -> float:
    """When the UTC minute holding `now` ends: the calls a minute are counted afresh then."""
    return (now // 60 + 1) * 60


def too_many_calls(cap: int, now: float) -> LimitReached:
    """The refusal of a call over SEEDANCE_USER_CALLS_PER_MINUTE, at `now`."""
    retry = max(1, int(minute_end(now) - now) + 1)
    return LimitReached(
        "rate",
        f"Refused: this server takes at most {cap} tool calls a minute from one person "
        f"(SEEDANCE_USER_CALLS_PER_MINUTE), and you made them all this minute. Nothing was submitted or charged. "
        f"Retry this same call in {retry} s.",
    )


class SpentMinutes:
    """The callers this replica has seen go over SEEDANCE_USER_CALLS_PER_MINUTE, each until their minute ends.

    A minute's count only grows, on every replica, so until the minute ends each later call of theirs would be
    refused too: the HTTP door (`server.operations.door`) answers those itself, and a flood costs a replica
    next to nothing once its first refusal is known. A caller is a key the door can tell from the request
    alone, before any sign-in is checked; it is only ever noted after one was.
    """

    MOST = 10_000  # callers kept at once; past it, a new one is not noted, and its calls take the long way

    def __init__(self) -> None:
        self._until: dict[bytes, float] = {}

    def __bool__(self) -> bool:
        return bool(self._until)

    def note(self, caller: bytes, until: float, now: float) -> None:
        if len(self._until) >= self.MOST:
            self._until = {key: end for key, end in self._until.items() if end > now}
        if len(self._until) < self.MOST:
            self._until[caller] = until

    def spent(self, caller: bytes, now: float) -> bool:
        """Whether `caller` is over the limit for the rest of this minute."""
        until = self._until.get(caller)
        if until is not None and until <= now:
            del self._until[caller]
            return False
        return until is not None
