"""Spending limits, checked before a job is submitted: a per-job cap and a daily budget.

Both compare the upper bound of the estimate, since that is what the job may cost. The day is the
UTC day; its spend is read from the ledger (paid jobs' upper estimates, cancelled ones excluded).
"""

from __future__ import annotations

from datetime import UTC, datetime

from server.errors import InvalidArguments
from server.jobs.ledger import Budget, Ledger
from server.jobs.views import dollars
from server.money.pricing import Estimate
from server.settings import Settings


def start_of_day() -> float:
    now = datetime.now(UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


async def check_limits(estimate: Estimate, settings: Settings, ledger: Ledger) -> None:
    """Raise before submitting a job that would break SEEDANCE_MAX_USD_PER_JOB or SEEDANCE_DAILY_BUDGET_USD."""
    cost = dollars(estimate.min_usd, estimate.max_usd)
    if estimate.max_usd > settings.max_usd_per_job:
        raise InvalidArguments(
            "duration/resolution",
            f"this job may cost up to {cost}, above this server's limit of ${settings.max_usd_per_job:.2f} per job "
            "(SEEDANCE_MAX_USD_PER_JOB)",
            'ask for a shorter clip (a fixed duration such as "5" instead of "auto"), 480p, or the fast tier; '
            "estimate_cost shows the price of each option",
        )
    budget = daily_budget(estimate, settings)
    if budget is not None:
        since, check = budget
        check(await ledger.spent_since(since))


def daily_budget(estimate: Estimate, settings: Settings) -> Budget | None:
    """Today's budget as the ledger checks it when the submit is recorded: (since, check(spent)).

    `check_limits` asks first, so that a job over budget never reaches the cost question; the ledger asks
    again, in turn with every replica, so that two jobs at once cannot both take the last dollars."""
    limit = settings.daily_budget_usd
    if limit is None:
        return None
    cost = dollars(estimate.min_usd, estimate.max_usd)

    def check(spent: float) -> None:
        if spent + estimate.max_usd > limit:
            raise InvalidArguments(
                "duration/resolution",
                f"this job may cost up to {cost}, but only ${max(limit - spent, 0.0):.2f} of today's ${limit:.2f} "
                f"budget (SEEDANCE_DAILY_BUDGET_USD) is left",
                "choose a cheaper job or wait until the budget renews at 00:00 UTC",
            )

    return start_of_day(), check
