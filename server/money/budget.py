"""Spending limits, checked before a job is submitted: a per-job cap and a daily budget.

Both compare the upper bound of the estimate, since that is what the job may cost. The day is the
UTC day; its spend is read from the ledger (a finished paid job's cost by the video it made, any other's
upper estimate; cancelled ones excluded).
"""

from __future__ import annotations

from datetime import UTC, datetime

from server import metrics
from server.errors import InvalidArguments
from server.ledger import Budget, Ledger
from server.money.pricing import Estimate, dollars
from server.settings import Settings


def start_of_day() -> float:
    now = datetime.now(UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


async def check_limits(estimate: Estimate, settings: Settings, ledger: Ledger, owner: str | None = None) -> None:
    """Raise before submitting a job that would break SEEDANCE_MAX_USD_PER_JOB, SEEDANCE_DAILY_BUDGET_USD or,
    for `owner`, SEEDANCE_USER_DAILY_BUDGET_USD."""
    cost = dollars(estimate.min_usd, estimate.max_usd)
    if estimate.max_usd > settings.max_usd_per_job:
        metrics.refused("cap")
        raise InvalidArguments(
            "duration/resolution",
            f"this job may cost up to {cost}, above this server's limit of ${settings.max_usd_per_job:.2f} per job "
            "(SEEDANCE_MAX_USD_PER_JOB)",
            'ask for a shorter clip (a fixed duration such as "5" instead of "auto"), 480p, or seedance-2.0-mini; '
            "estimate_cost shows the price of each option",
        )
    budget = daily_budget(estimate, settings, owner)
    if budget is not None:
        since, check = budget
        check(*await ledger.spent_since(since, owner))


def daily_budget(estimate: Estimate, settings: Settings, owner: str | None = None) -> Budget | None:
    """Today's budgets as the ledger checks them when the submit is recorded: (since, check(team, own)).

    `check_limits` asks first, so that a job over budget never reaches the cost question; the ledger asks
    again, in turn with every replica, so that two jobs at once cannot both take the last dollars."""
    limits = [(settings.daily_budget_usd, "today's ${:.2f} budget", "SEEDANCE_DAILY_BUDGET_USD", 0)]
    if owner is not None:  # someone signed in
        limits.append(
            (settings.user_daily_budget_usd, "your own ${:.2f} for today", "SEEDANCE_USER_DAILY_BUDGET_USD", 1)
        )
    if all(limit is None for limit, *_ in limits):
        return None
    cost = dollars(estimate.min_usd, estimate.max_usd)

    def check(*spent: float) -> None:
        for limit, whose, setting, which in limits:
            if limit is not None and spent[which] + estimate.max_usd > limit:
                left = f"${max(limit - spent[which], 0.0):.2f} of {whose.format(limit)} ({setting})"
                metrics.refused("budget")
                raise InvalidArguments(
                    "duration/resolution",
                    f"this job may cost up to {cost}, but only {left} is left",
                    "choose a cheaper job or wait until the budget renews at 00:00 UTC",
                )

    return start_of_day(), check
