"""Seedance 2.5 drafts: a cheap 480p take that its host renders again at 1080p, for a week after it was made.

A draft is a finished job made with `draft: true` whose result carries the host's draft id. Finishing it
(complete_draft) starts a job of its own, at the host that made the draft, priced as a 1080p render of
the draft's length and shape, and recorded with a link back to the draft.
"""

from __future__ import annotations

from datetime import UTC, datetime

from server.catalog import DRAFT_COMPLETION, DRAFT_DAYS, DURATIONS, FINAL_RESOLUTION, Duration, nearest_ratio
from server.ledger import JobRecord
from server.money import pricing

DAY = 86_400.0


def draft_id(record: JobRecord) -> str | None:
    """The host's id for the draft this job made; None for any other job."""
    found = (record.result or {}).get("draft_id") if record.arguments.get("draft") else None
    return found if isinstance(found, str) and found else None


def expires_at(record: JobRecord) -> float | None:
    """When the host forgets the draft: DRAFT_DAYS after it was made."""
    if draft_id(record) is None or record.finished_at is None:
        return None
    return record.finished_at + DRAFT_DAYS * DAY


def day_of(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def completion_estimate(record: JobRecord) -> pricing.Estimate:
    """The draft at 1080p: its length and shape as it was made (the host keeps both), on the host that made it."""
    result = record.result or {}
    asked_ratio = record.arguments.get("aspect_ratio")
    width, height = result.get("width"), result.get("height")
    if asked_ratio in (None, "auto") and isinstance(width, int) and isinstance(height, int) and width and height:
        asked_ratio = nearest_ratio(width, height)
    seconds = result.get("duration")
    duration: Duration = record.arguments.get("duration", "auto")
    if isinstance(seconds, int | float) and (made := str(max(4, round(seconds)))) in DURATIONS:
        duration = made
    return pricing.estimate(
        DRAFT_COMPLETION, record.model, FINAL_RESOLUTION, duration, asked_ratio or "auto", host=record.provider
    )
