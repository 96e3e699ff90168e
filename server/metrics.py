"""What the server counts for an operator, named here once, with every label's values a closed set this code
owns: tool names, hosts, operations, outcomes, refusal reasons. Nothing a caller sends becomes a label: no
person, prompt, URL, path or request id.

Lower layers call `metrics.meter`, which does nothing until the HTTP server installs the Prometheus one
(`server.operations.metrics`): stdio, and the tests of other things, never load prometheus-client.
"""

from __future__ import annotations

from collections.abc import Collection
from contextvars import ContextVar
from typing import Literal

Outcome = Literal["ok", "error", "refused"]
Refusal = Literal["invalid", "cap", "budget", "rate", "concurrency", "draining"]
REFUSALS: tuple[Refusal, ...] = ("invalid", "cap", "budget", "rate", "concurrency", "draining")
OPERATIONS = frozenset({"submit", "status", "stream", "result", "cancel", "upload", "upload_token"})
HOSTS = frozenset({"fal", "fal-us", "runflow", "ark", "local"})
# What became of a webhook delivery: the job changed; it had nothing new (a repeat, a late one); another
# replica follows the job live and sees the change itself; it did not end the job (a job still running: its
# progress is for those who watch it); not proven the host's; its path names no job.
WEBHOOK_OUTCOMES = frozenset({"applied", "repeat", "followed", "ignored", "refused", "unknown_job"})
DOWNLOAD_OUTCOMES = frozenset({"served", "refused", "gone", "unavailable"})


class Meter:
    """The counts, recorded nowhere: the default, and the shape of the one that records them."""

    def tool_call(self, tool: str, outcome: Outcome, seconds: float) -> None: ...

    def host_request(self, host: str, operation: str, status: int | None) -> None:
        """One HTTP request to a host (None: no answer came), every attempt counted."""

    def retry(self, host: str, operation: str) -> None: ...

    def job_submitted(self, host: str, model: str, list_usd: float) -> None: ...

    def refusal(self, reason: Refusal) -> None: ...

    def following(self, change: int) -> None:
        """Jobs this replica follows, up or down by `change`."""

    def webhook(self, host: str, outcome: str) -> None:
        """One delivery to the webhook route, by the host the job ran on and what became of it."""

    def download(self, outcome: str) -> None:
        """One request for a download link: served, refused (not valid or expired), gone, or unavailable."""


meter = Meter()


def install(recording: Meter) -> None:
    global meter
    meter = recording


class _Call:
    refused: Refusal | None = None


_call: ContextVar[_Call | None] = ContextVar("seedance_metrics_call", default=None)


def begin_call() -> _Call:
    """Start noting how the tool call in this context ends; see `refused`."""
    call = _Call()
    _call.set(call)
    return call


def refused(reason: Refusal) -> None:
    """Count a refusal, once per tool call: a budget refusal the argument checker later answers as invalid
    arguments stays a budget refusal."""
    call = _call.get()
    if call is not None:
        if call.refused is not None:
            return
        call.refused = reason
    meter.refusal(reason)


def label(value: str, allowed: Collection[str]) -> str:
    """A label value from its closed set, or "other"."""
    return value if value in allowed else "other"
