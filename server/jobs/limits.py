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


def too_many_calls(cap: int, now: float) -> LimitReached:
    """The refusal of a call over SEEDANCE_USER_CALLS_PER_MINUTE, at `now`."""
    retry = max(1, int(60 - now % 60) + 1)
    return LimitReached(
        "rate",
        f"Refused: this server takes at most {cap} tool calls a minute from one person "
        f"(SEEDANCE_USER_CALLS_PER_MINUTE), and you made them all this minute. Nothing was submitted or charged. "
        f"Retry this same call in {retry} s.",
    )
