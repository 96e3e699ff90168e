"""Spending limits, checked before a job is submitted: a per-job cap and a daily budget.

Both compare the upper bound of the estimate, since that is what the job may cost. The day is the
UTC day; its spend is read from the ledger (paid jobs' upper estimates, cancelled ones excluded).
"""

from __future__ import annotations

from datetime import UTC, datetime

from server.errors import InvalidArguments
from server.jobs.ledger import Ledger
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
    if settings.daily_budget_usd is not None:
        spent = await ledger.spent_since(start_of_day())
        if spent + estimate.max_usd > settings.daily_budget_usd:
            left = max(settings.daily_budget_usd - spent, 0.0)
            raise InvalidArguments(
                "duration/resolution",
                f"this job may cost up to {cost}, but only ${left:.2f} of today's ${settings.daily_budget_usd:.2f} "
                f"budget (SEEDANCE_DAILY_BUDGET_USD) is left",
                "choose a cheaper job or wait until the budget renews at 00:00 UTC",
            )
